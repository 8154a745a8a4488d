// Helpers for the CLI tests: temporary files, parsing a command line into flags, and running the
// real cyclrctl binary as a child process.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace cyclr::client::testing {

// A fresh folder under $TMPDIR, removed with its files at the end of the test.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base ? base : "/tmp") + "/cyclr_client_XXXXXX";
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::system(("rm -rf '" + path_ + "'").c_str()); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Writes `text` to `name` inside the folder; returns the full path.
  std::string Write(const std::string& name, const std::string& text) const {
    std::string p = Path(name);
    std::ofstream(p) << text;
    return p;
  }
  std::string Path(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Parses `args` (without the program name) with `app`; fails the test on a parse error.
inline void Parse(CLI::App* app, std::vector<std::string> args) {
  std::vector<const char*> argv{"test"};
  for (const auto& a : args) argv.push_back(a.c_str());
  ASSERT_NO_THROW(app->parse(static_cast<int>(argv.size()), argv.data()));
}

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs $CYCLR_BIN_DIR/`program` (cyclrctl, cyclr-worker, cyclr-coordinator) with `args`; `env`
// entries ("NAME=value") are added to ours.
inline RunResult RunBinary(const std::string& program, const std::vector<std::string>& args,
                           const std::vector<std::string>& env = {}) {
  const char* bin_dir = std::getenv("CYCLR_BIN_DIR");
  EXPECT_NE(bin_dir, nullptr) << "CYCLR_BIN_DIR is not set (run through ctest)";
  std::string bin = std::string(bin_dir ? bin_dir : ".") + "/" + program;
  TempDir dir;
  std::string out_path = dir.Path("stdout"), err_path = dir.Path("stderr");

  std::vector<char*> argv{const_cast<char*>(bin.c_str())};
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  for (const auto& e : env) env_strings.push_back(e);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  pid_t pid = 0;
  RunResult result;
  int rc = posix_spawn(&pid, bin.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  EXPECT_EQ(rc, 0) << "cannot start " << bin;
  if (rc != 0) return result;
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = ReadFile(out_path);
  result.err = ReadFile(err_path);
  return result;
}

// Runs $CYCLR_BIN_DIR/cyclrctl (see RunBinary).
inline RunResult RunCyclrctl(const std::vector<std::string>& args,
                             const std::vector<std::string>& env = {}) {
  return RunBinary("cyclrctl", args, env);
}

// A loopback listener; Contacted() says whether anyone connected since the last call (a
// non-blocking accept after the fact), so a test can prove a binary sent nothing.
class Listener {
 public:
  Listener() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    listen(fd_, 16);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~Listener() { close(fd_); }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  std::string Address() const { return "127.0.0.1:" + std::to_string(port_); }
  bool Contacted() const {
    int conn = accept(fd_, nullptr, nullptr);
    if (conn < 0) return false;
    close(conn);
    return true;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

}  // namespace cyclr::client::testing
