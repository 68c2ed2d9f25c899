#include "options.hpp"

#include "clipping/clipping.hpp"

#include <tern/error.hpp>
#include <tern/registry.hpp>

#include <functional>
#include <map>
#include <sstream>

namespace tern::ptq {
namespace {

bool read_flag(const Attribute& value, const std::string& key) {
  const auto* flag = std::get_if<std::int64_t>(&value);
  check(flag != nullptr && (*flag == 0 || *flag == 1), [&] { return "ptq option '" + key + "' must be 0 or 1"; });
  return *flag != 0;
}

std::vector<std::string> split_names(const std::string& text) {
  std::vector<std::string> names;
  std::stringstream stream(text);
  for (std::string name; std::getline(stream, name, ',');)
    if (!name.empty()) names.push_back(name);
  return names;
}

} // namespace

Options read_options(const Attributes& attributes) {
  Options options;
  using Reader = std::function<void(const Attribute&, const std::string&)>;
  const auto flag = [&](bool Options::*member) -> Reader {
    return
        [&options, member](const Attribute& value, const std::string& key) { options.*member = read_flag(value, key); };
  };
  const std::map<std::string, Reader> readers{
      {"clipping_mode",
       [&](const Attribute& value, const std::string& key) {
         const auto* text = std::get_if<std::string>(&value);
         check(text != nullptr, [&] { return "ptq option '" + key + "' must be a name"; });
         options.clipping_mode = lowercase(*text);
         check(find_clipping(options.clipping_mode) != nullptr,
               [&] { return "unknown clipping mode '" + *text + "' (known: " + clipping_names() + ")"; });
       }},
      {"no_quant", flag(&Options::no_quant)},
      {"optimize_signs", flag(&Options::optimize_signs)},
      {"single_shift", flag(&Options::single_shift)},
      {"use_cuda", flag(&Options::use_cuda)},
      {"fold_graph", flag(&Options::fold_graph)},
      {"fake_quantize", flag(&Options::fake_quantize)},
      {"verbose", flag(&Options::verbose)},
      {"per_channel", flag(&Options::per_channel)},
      {"keep_float", flag(&Options::keep_float)},
      {"equalize", flag(&Options::equalize)},
      {"bias_correction", flag(&Options::bias_correction)},
      {"reduce_range", flag(&Options::reduce_range)},
      {"percentile",
       [&](const Attribute& value, const std::string& key) {
         const auto* number = std::get_if<double>(&value);
         check(number != nullptr && *number > 0 && *number <= 100,
               [&] { return "ptq option '" + key + "' must be in (0, 100]"; });
         options.percentile = *number;
       }},
      {"bins",
       [&](const Attribute& value, const std::string& key) {
         const auto* number = std::get_if<std::int64_t>(&value);
         check(number != nullptr && *number >= 64 && *number <= (1 << 20),
               [&] { return "ptq option '" + key + "' must be in [64, 2^20]"; });
         options.bins = static_cast<std::size_t>(*number);
       }},
      {"backends",
       [&](const Attribute& value, const std::string& key) {
         const auto* text = std::get_if<std::string>(&value);
         check(text != nullptr && !split_names(*text).empty(),
               [&] { return "ptq option '" + key + "' must be a list like \"cpu\""; });
         options.backends = split_names(*text);
       }},
  };
  for (const auto& [key, value] : attributes.all()) {
    const auto reader = readers.find(key);
    if (reader == readers.end()) {
      std::string known;
      for (const auto& [name, unused] : readers) known += (known.empty() ? "" : ", ") + name;
      throw Error("unknown ptq option '" + key + "' (known: " + known + ")");
    }
    reader->second(value, key);
  }
  return options;
}

} // namespace tern::ptq
