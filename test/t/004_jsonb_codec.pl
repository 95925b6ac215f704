# The core's jsonb codec against PostgreSQL itself, on thousands of random documents: the bytes
# encode_jsonb() writes must be the bytes jsonb_in makes, and what decode_jsonb() reads back
# must be the same value. Documents mix every JSON type, numbers in many forms (exponents,
# trailing zeros, negatives, big and tiny), escapes, non-ASCII text, duplicate-free keys of
# every length, and containers larger than jsonb's offset stride of 32 entries.
use strict;
use warnings;
use utf8;
use MIME::Base64;
use Encode qw(encode_utf8);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('codec');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'telemetry'");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION telemetry CASCADE');

# A small deterministic generator (xorshift), so a failure can be reproduced.
my $state = 20261121;
sub rnd { my ($n) = @_; $state ^= ($state << 13) & 0xFFFFFFFF; $state ^= $state >> 17; $state ^= ($state << 5) & 0xFFFFFFFF; return $state % $n; }

my @alphabet = ('a' .. 'z', 'A' .. 'Z', '0' .. '9', ' ', '_', '-', 'é', 'ß', '中', '文', '😀', '"', '\\', "\n", "\t", "\x01", '/', '€');
sub random_string {
	my $length = rnd(3) == 0 ? rnd(40) : rnd(8);
	my $s = '';
	for (1 .. $length) {
		my $c = $alphabet[ rnd(scalar @alphabet) ];
		if    ($c eq '"')  { $s .= '\\"' }
		elsif ($c eq '\\') { $s .= '\\\\' }
		elsif ($c eq "\n") { $s .= rnd(2) ? '\\n' : '\\u000a' }
		elsif ($c eq "\t") { $s .= '\\t' }
		elsif ($c eq "\x01") { $s .= '\\u0001' }
		elsif ($c eq '/') { $s .= rnd(2) ? '/' : '\\/' }
		elsif ($c eq '€') { $s .= '\\u20ac' }
		else { $s .= $c }
	}
	return '"' . $s . '"';
}

sub random_number {
	my $kind = rnd(10);
	my $sign = rnd(3) == 0 ? '-' : '';
	return $sign . rnd(100000) if $kind < 3;
	return $sign . rnd(1000) . '.' . ('0' x rnd(3)) . rnd(1000) . ('0' x rnd(3)) if $kind < 5;
	return $sign . (1 + rnd(9)) . '.' . rnd(100000) . 'e' . (rnd(2) ? '-' : '+') . rnd(40) if $kind < 7;
	return $sign . '0.' . ('0' x rnd(20)) . (1 + rnd(9999)) if $kind < 8;
	return $sign . (1 + rnd(9)) . join('', map { rnd(10) } 1 .. rnd(40)) if $kind < 9;
	return ('0', '-0', '0.0', '1e0', '1E+2', '0e-5', '100', '123.4500')[ rnd(8) ];
}

sub random_value {
	my ($depth) = @_;
	my $kind = $depth > 5 ? rnd(4) : rnd(7);
	return 'null'                 if $kind == 0;
	return rnd(2) ? 'true' : 'false' if $kind == 1;
	return random_number()        if $kind == 2;
	return random_string()        if $kind == 3;
	# Large containers only near the root, or documents grow exponentially.
	my $size = ($depth <= 1 && rnd(6) == 0) ? 30 + rnd(50) : rnd(6);
	if ($kind == 4 || $kind == 6) {
		# Keys start with their position, so no two are equal once escapes are decoded.
		my @members = map { '"' . $_ . '#' . substr(random_string(), 1) . ':' . random_value($depth + 1) } 1 .. $size;
		return '{' . join(',', @members) . '}';
	}
	return '[' . join(',', map { random_value($depth + 1) } 1 .. $size) . ']';
}

my $documents = 4000;
my @encoded;
for my $i (1 .. $documents) {
	my $doc = $i % 3 == 0 ? random_value(0) : '{' . join(',', map { '"k' . $_ . '":' . random_value(1) } 1 .. rnd(12)) . '}';
	push @encoded, encode_base64(encode_utf8($doc), '');
}
$node->safe_psql('postgres', 'CREATE TABLE documents (n int, doc text)');
while (my @chunk = splice(@encoded, 0, 500)) {
	my $values = join(',', map { "(convert_from(decode('$_', 'base64'), 'UTF8'))" } @chunk);
	$node->safe_psql('postgres', "INSERT INTO documents (doc) SELECT d FROM (VALUES $values) AS v(d)");
}
is($node->safe_psql('postgres', 'SELECT count(*) FROM documents'), $documents, "$documents random documents");

my $disagreements = $node->safe_psql('postgres', q{
	SELECT string_agg(problem || ': ' || left(doc, 200), E'\n')
	FROM (SELECT doc, telemetry.self_test_jsonb(doc) AS problem FROM documents) s WHERE problem IS NOT NULL});
is($disagreements, '', 'encode_jsonb makes the bytes jsonb_in makes, and decode_jsonb reads them back, for every document');

# The documents did exercise what they were meant to.
my ($numbers, $large) = split /\|/, $node->safe_psql('postgres', q{
	SELECT count(*) FILTER (WHERE doc ~ '[0-9]e[-+]'), count(*) FILTER (WHERE length(doc) > 2000) FROM documents});
cmp_ok($numbers, '>', 100, 'many documents have numbers with exponents');
cmp_ok($large, '>', 50, 'many documents are large (containers past the 32-entry offset stride)');

$node->stop;
done_testing();
