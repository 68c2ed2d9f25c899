#include <tern/error.hpp>

namespace tern {

Error::~Error() = default;

} // namespace tern
