// src/core must stay plain C++ (DESIGN.md §2). The build already compiles it without the
// PostgreSQL include path; this test also checks the sources themselves, so the rule is visible
// where a newcomer would break it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

TEST(CorePurity, NoPostgresHeadersInSrcCore) {
    const fs::path core = fs::path(TELEMETRY_SOURCE_DIR) / "src" / "core";
    // Trusted input (our own sources), so std::regex is fine here.
    const std::regex pg_include(R"(#\s*include\s*[<"](postgres\.h|postgres_ext\.h|fmgr\.h|c\.h|pg_config.*\.h|(access|catalog|executor|utils|nodes|storage|commands|lib|port|miscadmin)[/.][^>"]*)[>"])");
    int files = 0;
    for (const auto& entry : fs::directory_iterator(core)) {
        const std::string text = read(entry.path());
        ++files;
        EXPECT_FALSE(std::regex_search(text, pg_include)) << entry.path() << " includes a PostgreSQL header";
    }
    EXPECT_GT(files, 5);
}

TEST(CorePurity, EveryCoreSourceEndsWithTheGuard) {
    const fs::path core = fs::path(TELEMETRY_SOURCE_DIR) / "src" / "core";
    for (const auto& entry : fs::directory_iterator(core)) {
        if (entry.path().extension() != ".cpp") continue;
        std::string text = read(entry.path());
        while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
        const std::string guard = "#include \"core/no_postgres.hpp\"";
        ASSERT_GE(text.size(), guard.size()) << entry.path();
        EXPECT_EQ(text.substr(text.size() - guard.size()), guard) << entry.path() << " must end with " << guard;
    }
}

}  // namespace
