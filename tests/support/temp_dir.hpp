// tests/support/temp_dir.hpp
//
// A fresh directory under the system temp dir, removed with its contents
// when the test ends.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>

namespace keel::testing {

class temp_dir {
 public:
  explicit temp_dir(const std::string& prefix = "keel-test") {
    std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  // The path of `name` inside the directory.
  std::string file(std::string_view name) const { return (path_ / name).string(); }
  // Writes `content` to `name` (binary) and returns its path.
  std::string write(std::string_view name, std::string_view content) const {
    const std::string p = file(name);
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }

 private:
  std::filesystem::path path_;
};

}  // namespace keel::testing
