-- Every SQL object of the extension is documented where \df+, \dt+ and \d+ show it: each
-- member of the extension (functions, tables, sequences, views, types...), the columns of its
-- tables, the schema and the extension itself have a COMMENT; each setting has a description
-- (its short_desc, defined in C: settings cannot have a COMMENT).

-- The objects: the members (pg_depend, deptype 'e' on the extension), the columns of member
-- relations that have columns, the schema (not a member: DROP EXTENSION leaves it), and the
-- extension. kind is pg_identify_object()'s: function, table, sequence, table column...
CREATE TEMP VIEW documented AS
WITH ext AS (
    SELECT e.oid, e.extnamespace FROM pg_catalog.pg_extension e WHERE e.extname = 'telemetry'),
objects AS (
    SELECT d.classid, d.objid, 0 AS objsubid
    FROM pg_catalog.pg_depend d JOIN ext ON d.refobjid = ext.oid
    WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass AND d.deptype = 'e'
    UNION ALL
    SELECT 'pg_catalog.pg_class'::regclass, a.attrelid, a.attnum
    FROM pg_catalog.pg_depend d JOIN ext ON d.refobjid = ext.oid
    JOIN pg_catalog.pg_class c ON d.classid = 'pg_catalog.pg_class'::regclass AND c.oid = d.objid
    JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass AND d.deptype = 'e'
      AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'c')
    UNION ALL
    SELECT 'pg_catalog.pg_namespace'::regclass, ext.extnamespace, 0 FROM ext
    UNION ALL
    SELECT 'pg_catalog.pg_extension'::regclass, ext.oid, 0 FROM ext)
SELECT i.type AS kind, i.identity AS object, ds.description AS comment
FROM objects o
CROSS JOIN LATERAL pg_catalog.pg_identify_object(o.classid, o.objid, o.objsubid) AS i
LEFT JOIN pg_catalog.pg_description ds
       ON ds.classoid = o.classid AND ds.objoid = o.objid AND ds.objsubid = o.objsubid;

-- None without a comment, or with an empty one (must be no rows).
SELECT kind, object FROM documented
WHERE coalesce(pg_catalog.btrim(comment), '') = ''
ORDER BY kind COLLATE "C", object COLLATE "C";

-- What is documented, by kind.
SELECT kind, count(*) AS commented FROM documented
WHERE coalesce(pg_catalog.btrim(comment), '') <> ''
GROUP BY kind
ORDER BY kind COLLATE "C";

-- The settings: each telemetry.* row of pg_settings has a description. Calling a function loads
-- the library (which defines them) also where it is not preloaded. telemetry.pii_hash_key is
-- defined GUC_NO_SHOW_ALL, so pg_settings does not list it.
SELECT telemetry.valid_event_name('loaded') AS library_loaded;
SELECT name COLLATE "C" AS setting, coalesce(pg_catalog.btrim(short_desc), '') <> '' AS described
FROM pg_catalog.pg_settings
WHERE name LIKE 'telemetry.%'
ORDER BY name COLLATE "C";
