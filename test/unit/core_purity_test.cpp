// src/core must stay plain C++ (DESIGN.md §2). The build already compiles it without the
// PostgreSQL include path; this test also checks the sources themselves, so the rule is visible
// where a newcomer would break it.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

// The tree to check: this checkout, or another one named by TELEMETRY_PURITY_ROOT (test/build/run.sh
// points it at a copy with a probe file in a new src/core folder, to show the check reaches it).
fs::path core_root() {
    const char* other = std::getenv("TELEMETRY_PURITY_ROOT");
    return fs::path(other != nullptr ? other : TELEMETRY_SOURCE_DIR) / "src" / "core";
}

// Every source file under src/core, in any folder depth (not the objects an in-tree build leaves).
std::vector<fs::path> core_files() {
    std::vector<fs::path> files;
    for (const auto& entry : fs::recursive_directory_iterator(core_root())) {
        const auto ext = entry.path().extension();
        if (entry.is_regular_file() && (ext == ".cpp" || ext == ".hpp" || ext == ".h")) files.push_back(entry.path());
    }
    return files;
}

std::string read(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

TEST(CorePurity, NoPostgresHeadersInSrcCore) {
    // Trusted input (our own sources), so std::regex is fine here.
    const std::regex pg_include(
        R"(#\s*include\s*[<"](postgres\.h|postgres_ext\.h|fmgr\.h|c\.h|pg_config.*\.h|(access|catalog|executor|utils|nodes|storage|commands|lib|port|miscadmin)[/.][^>"]*)[>"])");
    int files = 0;
    for (const auto& path : core_files()) {
        const std::string text = read(path);
        ++files;
        EXPECT_FALSE(std::regex_search(text, pg_include)) << path << " includes a PostgreSQL header";
    }
    EXPECT_GT(files, 5);
}

TEST(CorePurity, EveryCoreSourceEndsWithTheGuard) {
    for (const auto& path : core_files()) {
        if (path.extension() != ".cpp") continue;
        std::string text = read(path);
        while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
        const std::string guard = "#include \"core/base/no_postgres.hpp\"";
        ASSERT_GE(text.size(), guard.size()) << path;
        EXPECT_EQ(text.substr(text.size() - guard.size()), guard) << path << " must end with " << guard;
    }
}

}  // namespace
