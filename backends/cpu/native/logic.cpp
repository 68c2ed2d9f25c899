// Kernels with bool in or out, numpy-broadcast (broadcast.hpp): the comparisons Equal,
// Greater, Less, GreaterOrEqual, LessOrEqual (float32, int32, int64; Equal also bool), the
// logic Not, And, Or, Xor, and Where, which picks whole elements and so takes any dtype.
#include "native/broadcast.hpp"
#include "native/native_ops.hpp"

#include <string_view>
#include <utility>

namespace tern::cpu {
namespace {

/// Which relation a comparison tests, from the op type.
enum class Relation { Equal, Greater, Less, GreaterOrEqual, LessOrEqual };

constexpr std::pair<std::string_view, Relation> relations[] = {
    {"Equal", Relation::Equal},
    {"Greater", Relation::Greater},
    {"Less", Relation::Less},
    {"GreaterOrEqual", Relation::GreaterOrEqual},
    {"LessOrEqual", Relation::LessOrEqual},
};

template <class T> bool holds(Relation relation, T a, T b) {
  switch (relation) {
  case Relation::Equal: return a == b;
  case Relation::Greater: return a > b;
  case Relation::Less: return a < b;
  case Relation::GreaterOrEqual: return a >= b;
  case Relation::LessOrEqual: return a <= b;
  }
  return false;
}

class CompareKernel final : public Kernel {
public:
  explicit CompareKernel(const Node& node) : node_(node) {
    bool known = false;
    for (const auto& [op_type, relation] : relations)
      if (op_type == node.op_type()) {
        relation_ = relation;
        known = true;
      }
    native::require(node, known, node.op_type() + " is not a comparison the cpu backend knows");
  }

  void run(std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    native::require_arity(node_, inputs, outputs, 2, 2, 1, 1);
    const DataType type = inputs[0].dtype();
    native::require_dtype(node_, inputs[1], type, "input 1");
    native::require_dtype(node_, outputs[0], DataType::Bool, "output");
    const Relation relation = relation_;
    dispatch(type, [&](auto tag) {
      using T = typename decltype(tag)::type;
      native::broadcast_map<bool, T, T>(node_, inputs, outputs[0],
                                        [relation](T a, T b) { return holds(relation, a, b); });
    });
  }

private:
  const Node& node_;
  Relation relation_ = Relation::Equal;
};

/// And, Or, Xor: both inputs and the output bool.
template <bool (*fn)(bool, bool)>
void logic(const Node& node, std::span<const Tensor> inputs, std::span<Tensor> outputs) {
  native::require_arity(node, inputs, outputs, 2, 2, 1, 1);
  for (std::size_t k = 0; k < 2; ++k)
    native::require_dtype(node, inputs[k], DataType::Bool, "input " + std::to_string(k));
  native::require_dtype(node, outputs[0], DataType::Bool, "output");
  native::broadcast_map<bool, bool, bool>(node, inputs, outputs[0], fn);
}

bool both(bool a, bool b) { return a && b; }
bool either(bool a, bool b) { return a || b; }
bool exactly_one(bool a, bool b) { return a != b; }

void logical_not(const Node& node, std::span<const Tensor> inputs, std::span<Tensor> outputs) {
  native::require_arity(node, inputs, outputs, 1, 1, 1, 1);
  native::require_dtype(node, inputs[0], DataType::Bool, "input");
  native::require_dtype(node, outputs[0], DataType::Bool, "output");
  native::broadcast_map<bool, bool>(node, inputs, outputs[0], [](bool a) { return !a; });
}

// Where moves whole elements, so it reads them as words of the element's width.
void where(const Node& node, std::span<const Tensor> inputs, std::span<Tensor> outputs) {
  native::require_arity(node, inputs, outputs, 3, 3, 1, 1);
  native::require_dtype(node, inputs[0], DataType::Bool, "the condition");
  native::require_dtype(node, inputs[2], inputs[1].dtype(), "input 2");
  native::require_dtype(node, outputs[0], inputs[1].dtype(), "output");
  native::with_element_word(inputs[1].dtype(), [&](auto word) {
    using W = decltype(word);
    native::broadcast_map<W, bool, W, W>(node, inputs, outputs[0], [](bool c, W x, W y) { return c ? x : y; });
  });
}

} // namespace

std::unique_ptr<Kernel> make_compare(const Node& node) { return std::make_unique<CompareKernel>(node); }
std::unique_ptr<Kernel> make_and(const Node& node) { return native::stateless_kernel(node, logic<both>); }
std::unique_ptr<Kernel> make_or(const Node& node) { return native::stateless_kernel(node, logic<either>); }
std::unique_ptr<Kernel> make_xor(const Node& node) { return native::stateless_kernel(node, logic<exactly_one>); }
std::unique_ptr<Kernel> make_not(const Node& node) { return native::stateless_kernel(node, logical_not); }
std::unique_ptr<Kernel> make_where(const Node& node) { return native::stateless_kernel(node, where); }

} // namespace tern::cpu
