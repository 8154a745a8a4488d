// HostLayout: which ranks share a host, learned at rendezvous from what each rank says about
// itself (never guessed from launcher variables such as LOCAL_WORLD_SIZE). MakeCommunicator()
// uses it to pick shared memory within a host and Gloo across hosts.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "worker/comm/communicator_options.h"
#include "worker/comm/store.h"

namespace cyclr {

struct HostLayout {
  // host_of_rank[r]: index of rank r's host. Hosts are numbered by their lowest rank, so host 0
  // holds rank 0.
  std::vector<int> host_of_rank;
  // ranks_of_host[h]: the global ranks on host h, ascending.
  std::vector<std::vector<int>> ranks_of_host;

  int num_hosts() const { return static_cast<int>(ranks_of_host.size()); }
  // Position of `rank` among the ranks of its host (0 for the host's leader).
  int local_rank(int rank) const;
  // The lowest global rank on host `host`; it talks to the other hosts.
  int leader(int host) const { return ranks_of_host[host][0]; }
};

// Builds the layout from one id per rank (ranks with equal ids share a host).
HostLayout LayoutFromHostIds(const std::vector<std::string>& ids);

// This process's host id: "<boot_id>/<hostname>/shm:<dev>.<inode>". Processes with the same id run
// under one kernel boot and see the same /dev/shm file system, so they can share memory (two
// containers on one machine with private /dev/shm get different ids).
std::string LocalHostId();

// Publishes this rank's id (options.host_id, or LocalHostId() when empty) under
// "<store_prefix>/host/<rank>" and waits up to options.rendezvous_timeout for every rank's.
StatusOr<HostLayout> ExchangeHostLayout(const CommunicatorOptions& options, Store& store);

}  // namespace cyclr
