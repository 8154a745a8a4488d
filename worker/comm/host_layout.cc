#include "worker/comm/host_layout.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>

namespace cyclr {

int HostLayout::local_rank(int rank) const {
  const auto& ranks = ranks_of_host[host_of_rank[rank]];
  for (size_t i = 0; i < ranks.size(); ++i) {
    if (ranks[i] == rank) return static_cast<int>(i);
  }
  CYCLR_CHECK_MSG(false, "rank " + std::to_string(rank) + " missing from its host");
  return -1;
}

HostLayout LayoutFromHostIds(const std::vector<std::string>& ids) {
  HostLayout layout;
  std::map<std::string, int> index;
  for (size_t r = 0; r < ids.size(); ++r) {
    auto it = index.find(ids[r]);
    if (it == index.end()) {
      it = index.emplace(ids[r], layout.num_hosts()).first;
      layout.ranks_of_host.emplace_back();
    }
    layout.host_of_rank.push_back(it->second);
    layout.ranks_of_host[it->second].push_back(static_cast<int>(r));
  }
  return layout;
}

std::string LocalHostId() {
  std::string boot_id = "noboot";
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  if (in) std::getline(in, boot_id);
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  struct stat st {};
  std::string shm = "none";
  if (stat("/dev/shm", &st) == 0) {
    shm = std::to_string(static_cast<unsigned long long>(st.st_dev)) + "." +
          std::to_string(static_cast<unsigned long long>(st.st_ino));
  }
  return boot_id + "/" + host + "/shm:" + shm;
}

StatusOr<HostLayout> ExchangeHostLayout(const CommunicatorOptions& options, Store& store) {
  const std::string prefix = options.store_prefix + "/host/";
  const std::string id = options.host_id.empty() ? LocalHostId() : options.host_id;
  CYCLR_RETURN_IF_ERROR(store.Set(prefix + std::to_string(options.rank), id));
  std::vector<std::string> keys;
  for (int r = 0; r < options.world_size; ++r) keys.push_back(prefix + std::to_string(r));
  auto ids = store.Get(keys, options.rendezvous_timeout);
  if (!ids.ok()) {
    return ids.status().WithContext("host rendezvous of rank " + std::to_string(options.rank) +
                                    " of " + std::to_string(options.world_size));
  }
  return LayoutFromHostIds(*ids);
}

}  // namespace cyclr
