#include "worker/train/script_model.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace cyclr {
namespace {

std::string FirstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

std::string LocalName(const std::string& scripted) {
  std::string out;
  for (char c : scripted) out += c == '.' ? std::string("__") : std::string(1, c);
  return out;
}

// Writes `bytes` to `path` through "<path>.tmp", fsync'd and renamed, then fsyncs the folder.
Status WriteAtomically(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return Status::Internal("open " + tmp + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    done += static_cast<size_t>(w);
  }
  const bool ok = done == bytes.size() && ::fsync(fd) == 0;
  const std::string why = std::strerror(errno);
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Status::Internal("write " + path + ": " + why);
  }
  const std::string dir = std::filesystem::path(path).parent_path().string();
  const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

Status NotScript(const std::string& path, const std::string& why) {
  return Status::InvalidArgument("model_file " + path + ": not a TorchScript module (" + why +
                                 "); export with torch.jit.script(model).save(path)");
}

}  // namespace

StatusOr<std::shared_ptr<ScriptModelImpl>> ScriptModelImpl::Load(const std::string& path) {
  if (!std::ifstream(path, std::ios::binary)) {
    return Status::NotFound("model_file " + path + ": no such file or not readable");
  }
  std::shared_ptr<ScriptModelImpl> model;
  try {
    model.reset(new ScriptModelImpl(torch::jit::load(path, torch::kCPU)));
  } catch (const c10::Error& e) {
    return NotScript(path, FirstLine(e.what_without_backtrace()));
  } catch (const std::exception& e) {  // torch::jit::ErrorReport and others are not c10::Errors
    return NotScript(path, FirstLine(e.what()));
  }
  CYCLR_RETURN_IF_ERROR(model->RegisterTensors(path));
  model->train(true);
  return model;
}

Status ScriptModelImpl::RegisterTensors(const std::string& path) {
  std::set<std::string> names;
  int64_t trainable = 0;
  for (const auto& p : module_.named_parameters(/*recurse=*/true)) {
    const std::string local = LocalName(p.name);
    if (!names.insert(local).second) {
      return Status::InvalidArgument("model_file " + path + ": parameter names collide (" + p.name +
                                     ")");
    }
    if (p.value.scalar_type() != torch::kFloat32) {
      return Status::InvalidArgument("model_file " + path + ": parameter " + p.name + " is " +
                                     std::string(c10::toString(p.value.scalar_type())) +
                                     "; cyclr trains float32 parameters (call model.float() "
                                     "before torch.jit.script)");
    }
    if (p.value.requires_grad()) ++trainable;
    register_parameter(local, p.value, p.value.requires_grad());
  }
  if (trainable == 0) {
    return Status::InvalidArgument(
        "model_file " + path +
        ": the module has no trainable parameters (a frozen or traced-without-parameters "
        "module?); export with torch.jit.script(model).save(path), without torch.jit.freeze");
  }
  for (const auto& b : module_.named_buffers(/*recurse=*/true)) {
    const std::string local = LocalName(b.name);
    if (!names.insert(local).second) {
      return Status::InvalidArgument("model_file " + path + ": buffer names collide (" + b.name +
                                     ")");
    }
    register_buffer(local, b.value);
  }
  return Status::Ok();
}

torch::Tensor ScriptModelImpl::forward(const torch::Tensor& input) {
  c10::IValue out = module_.forward({input});
  if (!out.isTensor()) {
    TORCH_CHECK(false, "the model's forward returned ", out.tagKind(), ", not one tensor");
  }
  return out.toTensor();
}

void ScriptModelImpl::train(bool on) {
  torch::nn::Module::train(on);
  module_.train(on);
}

Status ScriptModelImpl::Export(const std::string& path) {
  const bool was_training = is_training();
  train(false);
  std::ostringstream bytes;
  Status st = Status::Ok();
  try {
    module_.save(bytes);
  } catch (const c10::Error& e) {
    st = Status::Internal("export " + path + ": " + FirstLine(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    st = Status::Internal("export " + path + ": " + FirstLine(e.what()));
  }
  train(was_training);
  if (!st.ok()) return st;
  return WriteAtomically(path, bytes.str());
}

}  // namespace cyclr
