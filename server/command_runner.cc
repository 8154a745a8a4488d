#include "server/command_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace cyclr {
namespace {

struct Pipes {
  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1}, exec[2] = {-1, -1};
  ~Pipes() {
    for (int* p : {in, out, err, exec}) {
      for (int i = 0; i < 2; ++i) {
        if (p[i] >= 0) close(p[i]);
      }
    }
  }
  bool Open() {
    for (int* p : {in, out, err, exec}) {
      if (pipe2(p, O_CLOEXEC) != 0) return false;
    }
    return true;
  }
};

void CloseFd(int* fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

// In the child: only async-signal-safe calls. Reports an exec failure's errno on the exec pipe.
[[noreturn]] void ExecChild(Pipes& p, char* const* argv) {
  setpgid(0, 0);
  dup2(p.in[0], STDIN_FILENO);
  dup2(p.out[1], STDOUT_FILENO);
  dup2(p.err[1], STDERR_FILENO);
  execvp(argv[0], argv);
  int e = errno;
  ssize_t ignored = write(p.exec[1], &e, sizeof e);
  (void)ignored;
  _exit(127);
}

// Writes the input and reads both streams until they close or the deadline passes.
bool Pump(Pipes& p, const CommandOptions& o, CommandResult* r) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point deadline = Clock::now() + o.timeout;
  size_t written = 0;
  if (o.input.empty()) CloseFd(&p.in[1]);
  while (p.out[0] >= 0 || p.err[0] >= 0) {
    pollfd fds[3] = {{p.out[0], POLLIN, 0}, {p.err[0], POLLIN, 0}, {p.in[1], POLLOUT, 0}};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    if (poll(fds, 3, static_cast<int>(left.count())) < 0 && errno != EINTR) return false;
    if (fds[2].revents & (POLLOUT | POLLERR | POLLHUP)) {
      ssize_t n = write(p.in[1], o.input.data() + written, o.input.size() - written);
      if (n > 0) written += static_cast<size_t>(n);
      if (n < 0 || written == o.input.size()) CloseFd(&p.in[1]);
    }
    std::string* sinks[2] = {&r->out, &r->err};
    int* fdp[2] = {&p.out[0], &p.err[0]};
    for (int i = 0; i < 2; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[4096];
      ssize_t n = read(*fdp[i], buf, sizeof buf);
      if (n <= 0) {
        CloseFd(fdp[i]);
      } else if (sinks[i]->size() < o.max_output) {
        sinks[i]->append(buf, std::min(static_cast<size_t>(n), o.max_output - sinks[i]->size()));
      }
    }
  }
  return true;
}

}  // namespace

std::string CommandResult::Describe(const std::string& program) const {
  std::string what = timed_out     ? program + " timed out"
                     : signal != 0 ? program + " was killed by signal " + std::to_string(signal)
                                   : program + " exited with code " + std::to_string(exit_code);
  std::string text = err.find_first_not_of(" \n\t") != std::string::npos ? err : out;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  if (text.size() > 600) text = "..." + text.substr(text.size() - 600);
  return text.empty() ? what : what + ": " + text;
}

StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                   const CommandOptions& options) {
  if (argv.empty()) return Status::InvalidArgument("RunCommand: no program");
  std::vector<char*> args;
  std::vector<std::string> copy = argv;
  for (auto& a : copy) args.push_back(a.data());
  args.push_back(nullptr);
  Pipes p;
  if (!p.Open()) return Status::Unavailable(std::string("pipe: ") + std::strerror(errno));
  // A reader that went away must not kill the coordinator with SIGPIPE: write() returns EPIPE.
  signal(SIGPIPE, SIG_IGN);
  pid_t pid = fork();
  if (pid < 0) return Status::Unavailable(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) ExecChild(p, args.data());
  for (int fd : {p.in[0], p.out[1], p.err[1], p.exec[1]}) close(fd);
  p.in[0] = p.out[1] = p.err[1] = p.exec[1] = -1;
  int exec_errno = 0;
  if (read(p.exec[0], &exec_errno, sizeof exec_errno) == sizeof exec_errno) {
    waitpid(pid, nullptr, 0);
    std::string why = exec_errno == ENOENT ? "not found on PATH" : std::strerror(exec_errno);
    return Status::Unavailable("cannot run " + argv[0] + ": " + why);
  }
  CommandResult r;
  r.timed_out = !Pump(p, options, &r);
  if (r.timed_out) kill(-pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  return r;
}

}  // namespace cyclr
