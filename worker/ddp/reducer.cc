#include "worker/ddp/reducer.h"

#include <torch/csrc/autograd/function_hook.h>

#include "worker/ddp/bucket_assignment.h"
#include "worker/ddp/tensor_broadcast.h"

namespace cyclr {

// Autograd post-hook on a parameter's AccumulateGrad node: runs after the gradient has been
// accumulated into .grad (our bucket view) and tells the reducer.
class Reducer::ReadyHook : public torch::autograd::FunctionPostHook {
 public:
  ReadyHook(Reducer* reducer, size_t param) : reducer_(reducer), param_(param) {}
  torch::autograd::variable_list operator()(const torch::autograd::variable_list& outputs,
                                            const torch::autograd::variable_list&) override {
    reducer_->MarkReady(param_);
    return outputs;
  }

 private:
  Reducer* const reducer_;
  const size_t param_;
};

namespace {

double MillisSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

Status CheckParam(const torch::Tensor& p, size_t i, const Communicator& comm) {
  const std::string name = "parameter " + std::to_string(i);
  if (!p.defined()) return Status::InvalidArgument(name + " is undefined");
  if (p.scalar_type() != torch::kFloat32) {
    return Status::InvalidArgument(name + " has dtype " + std::string(c10::toString(p.scalar_type())) +
                                   "; the reducer needs float32");
  }
  const bool want_cuda = comm.backend() == "nccl";
  if (p.is_cuda() != want_cuda) {
    return Status::InvalidArgument(name + " is on " + p.device().str() + "; backend \"" +
                                   comm.backend() + "\" needs " + (want_cuda ? "CUDA" : "CPU") +
                                   " tensors");
  }
  if (!p.is_leaf()) return Status::InvalidArgument(name + " is not a leaf tensor");
  return Status::Ok();
}

}  // namespace

StatusOr<std::unique_ptr<Reducer>> Reducer::Create(std::vector<torch::Tensor> params,
                                                   std::vector<torch::Tensor> buffers,
                                                   Communicator* comm, ReducerOptions options) {
  CYCLR_CHECK(comm != nullptr);
  if (options.bucket_cap_bytes == 0 || options.first_bucket_cap_bytes == 0) {
    return Status::InvalidArgument("bucket_cap_bytes and first_bucket_cap_bytes must be > 0");
  }
  if (options.timeout.count() <= 0) {
    return Status::InvalidArgument("timeout (" + std::to_string(options.timeout.count()) +
                                   " ms) must be > 0");
  }
  std::vector<torch::Tensor> trainable;
  for (size_t i = 0; i < params.size(); ++i) {
    if (params[i].defined() && !params[i].requires_grad()) {  // frozen: synced, not reduced
      buffers.push_back(params[i]);
      continue;
    }
    CYCLR_RETURN_IF_ERROR(CheckParam(params[i], i, *comm));
    trainable.push_back(params[i]);
  }
  std::unique_ptr<Reducer> r(new Reducer(std::move(trainable), std::move(buffers), comm, options));
  r->BuildBuckets();
  r->InstallHooks();
  return r;
}

StatusOr<std::unique_ptr<Reducer>> Reducer::ForModule(torch::nn::Module& module,
                                                       Communicator* comm,
                                                       ReducerOptions options) {
  return Create(module.parameters(), module.buffers(), comm, options);
}

Reducer::Reducer(std::vector<torch::Tensor> params, std::vector<torch::Tensor> buffers,
                 Communicator* comm, ReducerOptions options)
    : params_(std::move(params)), buffers_(std::move(buffers)), comm_(comm), options_(options) {}

Reducer::~Reducer() {
  for (size_t i = 0; i < accumulators_.size(); ++i) accumulators_[i]->del_post_hook(hook_keys_[i]);
}

void Reducer::BuildBuckets() {
  std::vector<size_t> bytes;
  for (const auto& p : params_) bytes.push_back(p.numel() * sizeof(float));
  bucket_params_ = AssignBuckets(bytes, options_.first_bucket_cap_bytes, options_.bucket_cap_bytes);
  location_.resize(params_.size());
  buckets_.resize(bucket_params_.size());
  torch::NoGradGuard no_grad;
  for (size_t b = 0; b < bucket_params_.size(); ++b) {
    int64_t total = 0;
    for (size_t p : bucket_params_[b]) total += params_[p].numel();
    Bucket& bucket = buckets_[b];
    bucket.flat = torch::zeros({total}, params_[bucket_params_[b][0]].options());
    int64_t offset = 0;
    for (size_t j = 0; j < bucket_params_[b].size(); ++j) {
      const torch::Tensor& p = params_[bucket_params_[b][j]];
      // Shares the bucket's storage without being an autograd view: Optimizer::zero_grad()
      // calls detach_() on grads, which LibTorch refuses for views.
      torch::Tensor alias = torch::empty({0}, bucket.flat.options());
      alias.set_(bucket.flat.storage(), offset, p.sizes());
      bucket.views.push_back(alias);
      location_[bucket_params_[b][j]] = {b, j};
      offset += p.numel();
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < params_.size(); ++i) AttachGradLocked(i);
  ResetStepLocked();
}

void Reducer::InstallHooks() {
  for (size_t i = 0; i < params_.size(); ++i) {
    auto acc = torch::autograd::impl::grad_accumulator(params_[i]);
    CYCLR_CHECK(acc != nullptr);  // leaves requiring grad always have one
    hook_keys_.push_back(acc->add_post_hook(std::make_unique<ReadyHook>(this, i)));
    accumulators_.push_back(std::move(acc));
  }
}

void Reducer::AttachGradLocked(size_t i) {
  const auto [b, j] = location_[i];
  const torch::Tensor& view = buckets_[b].views[j];
  torch::Tensor param = params_[i];
  const torch::Tensor& grad = param.grad();
  if (grad.defined() && grad.data_ptr() == view.data_ptr()) return;
  torch::NoGradGuard no_grad;
  if (grad.defined()) {
    view.copy_(grad);  // someone replaced .grad (e.g. autograd stole a fresh tensor)
  } else {
    view.zero_();  // zero_grad(set_to_none) or no gradient yet
  }
  param.mutable_grad() = view;
}

void Reducer::MarkReady(size_t i) {
  std::lock_guard<std::mutex> lock(mu_);
  if (ready_[i]) {
    if (step_error_.ok()) {
      step_error_ = Status::FailedPrecondition(
          "parameter " + std::to_string(i) +
          " got a gradient twice in one step: call FinishBackward() after every backward()");
    }
    return;
  }
  ready_[i] = true;
  AttachGradLocked(i);
  const size_t b = location_[i].first;
  if (--buckets_[b].pending == 0) LaunchReadyLocked();
}

void Reducer::LaunchReadyLocked() {
  while (next_launch_ < buckets_.size() && buckets_[next_launch_].pending == 0) {
    Bucket& bucket = buckets_[next_launch_++];
    if (next_launch_ == 1) first_launch_ = Clock::now();
    bucket.work = comm_->AllReduce(bucket.flat.data_ptr(), bucket.flat.numel(),
                                   DataType::kFloat32, ReduceOp::kSum);
  }
}

void Reducer::ResetStepLocked() {
  ready_.assign(params_.size(), false);
  for (size_t b = 0; b < buckets_.size(); ++b) {
    buckets_[b].pending = bucket_params_[b].size();
    buckets_[b].work.reset();
  }
  next_launch_ = 0;
  step_error_ = Status::Ok();
}

Status Reducer::FinishBackward() {
  const auto start = Clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  stats_ = ReducerStepStats();
  stats_.buckets = static_cast<int>(buckets_.size());
  stats_.launched_during_backward = static_cast<int>(next_launch_);
  for (size_t i = 0; i < params_.size(); ++i) {
    if (ready_[i]) continue;  // unused this step: all-reduce whatever .grad holds
    AttachGradLocked(i);
    buckets_[location_[i].first].pending = 0;
  }
  LaunchReadyLocked();
  Status result = step_error_;
  const auto deadline = start + options_.timeout;
  for (size_t b = 0; b < buckets_.size() && result.ok(); ++b) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    result = buckets_[b].work->Wait(std::max(left, std::chrono::milliseconds(0)))
                 .WithContext("gradient bucket " + std::to_string(b));
  }
  if (result.ok() && !buckets_.empty()) {
    stats_.allreduce_ms = MillisSince(first_launch_);
    torch::NoGradGuard no_grad;
    if (comm_->world_size() > 1) {
      for (auto& bucket : buckets_) bucket.flat.div_(comm_->world_size());
    }
  }
  stats_.wait_ms = MillisSince(start);
  ResetStepLocked();
  return result;
}

Status Reducer::AllReduceMin(int64_t* data, size_t n) {
  return comm_->AllReduce(data, n, DataType::kInt64, ReduceOp::kMin)->Wait(options_.timeout)
      .WithContext("AllReduceMin");
}

Status Reducer::BroadcastParameters(int root) {
  std::vector<torch::Tensor> all = params_;
  all.insert(all.end(), buffers_.begin(), buffers_.end());
  return BroadcastTensors(*comm_, all, root, options_.timeout);
}

Status Reducer::BroadcastBuffers(int root) {
  if (buffers_.empty()) return Status::Ok();
  return BroadcastTensors(*comm_, buffers_, root, options_.timeout);
}

}  // namespace cyclr
