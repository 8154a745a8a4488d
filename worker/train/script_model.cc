#include "worker/train/script_model.h"
#include "core/safe_file.h"

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
  return WriteFileAtomically(path, bytes.str());
}

}  // namespace cyclr
