#include "output.hpp"

#include <iostream>

namespace tern::cli {

std::ostream& Output::text() const { return json_ ? std::cerr : std::cout; }

void Output::fail(const std::string& message) {
  std::cerr << "tern: error: " << message << "\n";
  result_ = {{"error", message}};
}

void Output::finish() const {
  if (json_) std::cout << result_.dump(2) << "\n";
}

} // namespace tern::cli
