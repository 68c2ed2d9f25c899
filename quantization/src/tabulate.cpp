#include "tabulate.hpp"

#include <tern/scheduler.hpp>

namespace tern::ptq {

Tensor tabulate(const Node& function, std::size_t operand, DataType type, const std::vector<std::string>& backends,
                const TableStep& into, const TableStep& out_of) {
  Graph table;
  std::vector<float> values(256);
  for (std::size_t i = 0; i < values.size(); ++i)
    values[i] = static_cast<float>(info(type).lowest) + static_cast<float>(i);
  table.add_input("x", DataType::Float32, Shape{256});
  const std::string real = into(table, "x");
  std::vector<std::string> inputs;
  for (std::size_t i = 0; i < function.inputs().size(); ++i) {
    if (i == operand) {
      inputs.push_back(real);
      continue;
    }
    inputs.push_back("c" + std::to_string(i));
    table.add_constant(inputs.back(), *function.input(i)->constant());
  }
  table.add_node(function.op_type(), inputs, {"result"}, function.attrs());
  table.add_output(out_of(table, "result"));
  SequentialScheduler scheduler(table, backends);
  // A scalar operand of higher rank ([1, 1, 1]) gives the results that rank: flatten them.
  return scheduler.forward({Tensor::from_floats(Shape{256}, values)})[0].to(host_backend()).reshaped(Shape{256});
}

} // namespace tern::ptq
