#include "worker/train/trainable_model.h"

#include "core/file_sha256.h"
#include "worker/train/model_factory.h"

namespace cyclr {
namespace {

std::string Shape(const torch::Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
  return s + "] " + std::string(c10::toString(t.scalar_type()));
}

std::string FirstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

// The first label of `labels` outside [0, classes), as an error naming `what`.
Status CheckLabels(const torch::Tensor& labels, int64_t classes, const std::string& what) {
  if (!labels.defined() || labels.numel() == 0) return Status::Ok();
  torch::Tensor bad = labels.ge(classes).logical_or(labels.lt(0)).nonzero();
  if (bad.size(0) == 0) return Status::Ok();
  const int64_t at = bad[0][0].item<int64_t>();
  return Status::InvalidArgument(what + " label " + std::to_string(labels[at].item<int64_t>()) +
                                 " at index " + std::to_string(at) + " is out of range: the model " +
                                 "outputs " + std::to_string(classes) + " classes, [0, " +
                                 std::to_string(classes) + ")");
}

}  // namespace

StatusOr<TrainableModel> BuildTrainableModel(const v1::JobSpec& spec) {
  TrainableModel m;
  if (spec.model_file().empty()) {
    CYCLR_ASSIGN_OR_RETURN(torch::nn::Sequential seq, MakeModel(spec.model()));
    m.module = seq.ptr();
    m.forward = [seq](const torch::Tensor& x) mutable { return seq->forward(x); };
    return m;
  }
  CYCLR_ASSIGN_OR_RETURN(m.sha256, FileSha256(spec.model_file()));
  if (!spec.model_sha256().empty() && m.sha256 != spec.model_sha256()) {
    return Status::FailedPrecondition("model_file " + spec.model_file() + " has SHA-256 " +
                                      m.sha256 + ", the job was launched with " +
                                      spec.model_sha256() + " (the file changed since launch, "
                                      "or this host has another copy)");
  }
  CYCLR_ASSIGN_OR_RETURN(m.script, ScriptModelImpl::Load(spec.model_file()));
  m.module = m.script;
  std::shared_ptr<ScriptModelImpl> s = m.script;
  m.forward = [s](const torch::Tensor& x) { return s->forward(x); };
  return m;
}

torch::Tensor ComputeLoss(const std::string& loss, const torch::Tensor& out,
                          const torch::Tensor& target, torch::Reduction::Reduction reduction) {
  if (loss == "mse") {
    return torch::mse_loss(out, target.reshape(out.sizes()).to(out.scalar_type()), reduction);
  }
  auto options = torch::nn::functional::CrossEntropyFuncOptions();
  if (reduction == torch::Reduction::Sum) options.reduction(torch::kSum);
  return torch::nn::functional::cross_entropy(out, target, options);
}

Status CheckModelFitsData(TrainableModel& model, const std::string& loss, const Dataset& train,
                          const Dataset& test) {
  torch::NoGradGuard no_grad;
  const bool was_training = model.module->is_training();
  model.module->eval();
  torch::Tensor idx = torch::arange(std::min<int64_t>(2, train.size()), torch::kInt64);
  torch::Tensor x = train.Inputs(idx), y = train.Targets(idx);
  torch::Tensor out;
  std::string error;
  try {
    out = model.forward(x);
  } catch (const c10::Error& e) {
    error = FirstLine(e.what_without_backtrace());
  } catch (const std::exception& e) {  // a scripted forward raises torch::jit::JITException
    error = FirstLine(e.what());
  }
  model.module->train(was_training);
  const std::string data = "the data gives inputs " + Shape(x) + " and targets " + Shape(y);
  if (!error.empty()) {
    return Status::InvalidArgument("the model does not take the data: " + data + "; forward "
                                   "failed: " + error);
  }
  if (loss == "mse") {
    if (out.numel() != y.numel()) {
      return Status::InvalidArgument("the model's output " + Shape(out) +
                                     " does not match the targets for loss mse: " + data);
    }
    return Status::Ok();
  }
  if (out.dim() != 2 || out.size(0) != x.size(0)) {
    return Status::InvalidArgument("the model's output " + Shape(out) +
                                   " must be [batch, classes] logits for loss cross-entropy: " +
                                   data);
  }
  CYCLR_RETURN_IF_ERROR(CheckLabels(train.labels, out.size(1), "train_y:"));
  return CheckLabels(test.labels, out.size(1), "test_y:");
}

}  // namespace cyclr
