// LoadedAk's state, shared with quote.cc and credential.cc.
#pragma once

#include "edgeward/tpm/ak.h"
#include "internal/object.h"

namespace edgeward::tpm {

struct LoadedAk::Impl {
  Ak ak;
  internal::TpmObject object;  // the loaded AK; flushed first
};

}  // namespace edgeward::tpm
