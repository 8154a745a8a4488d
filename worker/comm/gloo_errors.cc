#include "worker/comm/gloo_errors.h"

#include <exception>
#include <string>

#include <gloo/common/error.h>
#include <gloo/common/logging.h>

#include "worker/comm/gloo_store_adapter.h"

namespace cyclr {

Status CallGloo(const std::function<void()>& fn) {
  try {
    fn();
    return Status::Ok();
  } catch (const GlooStoreError& e) {
    return e.status;
  } catch (const gloo::IoException& e) {
    const std::string what = e.what();
    if (what.find("imed out") != std::string::npos || what.find("imeout") != std::string::npos) {
      return Status::DeadlineExceeded(what);
    }
    return Status::Unavailable(what);
  } catch (const gloo::EnforceNotMet& e) {
    return Status::Internal(std::string("gloo invariant failed: ") + e.what());
  } catch (const std::exception& e) {
    return Status::Internal(std::string("gloo error: ") + e.what());
  }
}

}  // namespace cyclr
