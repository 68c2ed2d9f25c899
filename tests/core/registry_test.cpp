// The registry's rules (one duplicate policy, atomic batches, scoped registries), kernel
// rows' type constraints, and declining: each checked on hand-made cases.
#include <tern/exporter.hpp>
#include <tern/registry.hpp>
#include <tern/scheduler.hpp>

#include <gtest/gtest.h>

#include <cstring>

#include "graphs.hpp"
#include "reference_backend.hpp"

using tern::DataType;
using tern::KernelInput;
using tern::Owner;
using tern::Registrations;
using tern::ScopedRegistry;

namespace {

constexpr DataType f32 = DataType::Float32;
constexpr DataType i64 = DataType::Int64;

class NamedBackend final : public tern::Backend {
public:
  explicit NamedBackend(std::string name) : name_(std::move(name)) {}
  std::string name() const override { return name_; }
  std::shared_ptr<std::byte> allocate(std::size_t bytes) override { return tern::host_backend().allocate(bytes); }

private:
  std::string name_;
};

/// Copies input 0 to output 0 (same bytes).
void copy(const tern::Node&, std::span<const tern::Tensor> in, std::span<tern::Tensor> out) {
  std::memcpy(out[0].raw(), in[0].raw(), in[0].bytes());
}

tern::OpSchema widget_schema(std::string domain) {
  return {"Widget",
          1,
          1,
          1,
          1,
          {},
          [](tern::InferenceContext& ctx) { ctx.set_output(0, ctx.dtype(0), ctx.shape(0)); },
          std::move(domain)};
}

std::string refusal(tern::Registry& registry, Registrations batch) {
  try {
    registry.commit(std::move(batch));
  } catch (const tern::Error& e) {
    return e.what();
  }
  return {};
}

bool fits(const std::vector<KernelInput>& rules, std::vector<std::optional<DataType>> types) {
  return tern::matches(rules, types);
}

} // namespace

TEST(KernelInputs, SetsSameAsOptionalAndRepeatedMatchOnlyWhatTheySay) {
  const std::vector<KernelInput> pad{KernelInput::any(), i64, KernelInput::same_as(0).optional(),
                                     KernelInput::one_of({i64, DataType::Int32}).optional()};
  EXPECT_TRUE(fits(pad, {f32, i64}));
  EXPECT_TRUE(fits(pad, {f32, i64, f32}));
  EXPECT_TRUE(fits(pad, {f32, i64, std::nullopt, DataType::Int32})); // axes without constant_value
  EXPECT_FALSE(fits(pad, {f32, i64, i64}));                          // constant_value not of the data's type
  EXPECT_FALSE(fits(pad, {f32}));                                    // pads required
  EXPECT_FALSE(fits(pad, {f32, std::nullopt}));
  EXPECT_FALSE(fits(pad, {f32, i64, f32, i64, i64})); // one input too many

  const std::vector<KernelInput> concat{KernelInput::one_of({f32, DataType::Int8}), KernelInput::same_as(0).repeated()};
  EXPECT_TRUE(fits(concat, {f32}));
  EXPECT_TRUE(fits(concat, std::vector<std::optional<DataType>>(40, DataType::Int8)));
  EXPECT_FALSE(fits(concat, {f32, f32, DataType::Int8}));
  EXPECT_FALSE(fits(concat, {i64, i64}));
  EXPECT_FALSE(fits(concat, {}));

  EXPECT_TRUE(fits({}, {}));
  EXPECT_FALSE(fits({}, {f32}));
  EXPECT_EQ(tern::describe(pad), "(any, int64, [same as input 0], [int32|int64])");
  EXPECT_EQ(tern::describe(concat), "(float32|int8, same as input 0...)");
}

TEST(Registry, ScopedRegistryStartsCleanAndLeavesNothingBehind) {
  {
    ScopedRegistry scope;
    EXPECT_EQ(&tern::Registry::current(), &scope.registry());
    EXPECT_NE(tern::find_backend("host"), nullptr); // the core's own entries are there
    EXPECT_NE(tern::find_schema("Conv"), nullptr);
    EXPECT_EQ(tern::find_backend("scoped-only"), nullptr);
    tern::register_backend(std::make_shared<NamedBackend>("scoped-only"));
    EXPECT_NE(tern::find_backend("scoped-only"), nullptr);
    {
      ScopedRegistry inner;
      EXPECT_EQ(tern::find_backend("scoped-only"), nullptr);
    }
    EXPECT_NE(tern::find_backend("scoped-only"), nullptr);
  }
  EXPECT_EQ(tern::find_backend("scoped-only"), nullptr);
}

TEST(Registry, RefusesEveryKindOfDuplicateNamingBothOwners) {
  ScopedRegistry scope;
  tern::Registry& registry = scope.registry();
  Registrations first(Owner{"plugin 'first'", nullptr});
  first.add_backend(std::make_shared<NamedBackend>("widgets"));
  first.add_schema(widget_schema("test.first"));
  first.add_pass("first.step", [](tern::Graph&, tern::PassContext&) {});
  registry.commit(std::move(first));

  const Owner second{"plugin 'second'", nullptr};
  Registrations backend(second);
  backend.add_backend(std::make_shared<NamedBackend>("WIDGETS"));
  EXPECT_EQ(refusal(registry, std::move(backend)),
            "plugin 'second' registers backend 'WIDGETS', which plugin 'first' already registered");
  Registrations schema(second);
  schema.add_schema(widget_schema("test.second"));
  EXPECT_EQ(refusal(registry, std::move(schema)),
            "plugin 'second' registers operator Widget, which plugin 'first' already registered");
  Registrations core_op(second);
  core_op.add_schema({"Conv", 1, 1, 1, 1, {}, widget_schema("").infer, "test.second"});
  EXPECT_EQ(refusal(registry, std::move(core_op)),
            "plugin 'second' registers operator Conv, which the core already registered");
  Registrations pass(second);
  pass.add_pass("First.Step", [](tern::Graph&, tern::PassContext&) {});
  EXPECT_EQ(refusal(registry, std::move(pass)),
            "plugin 'second' registers pass 'First.Step', which plugin 'first' already registered");
  Registrations foreign_kernels(second);
  foreign_kernels.add_kernels("widgets", {tern::function_kernel("Relu", {f32}, copy)});
  EXPECT_EQ(refusal(registry, std::move(foreign_kernels)),
            "plugin 'second' registers kernel Relu for backend 'widgets', which plugin 'first' owns");
  Registrations no_domain(second);
  no_domain.add_schema(widget_schema(""));
  EXPECT_NE(refusal(registry, std::move(no_domain)).find("without a domain"), std::string::npos);
}

TEST(Registry, ARefusedBatchLeavesNoTrace) {
  ScopedRegistry scope;
  Registrations batch(Owner{"plugin 'half'", nullptr});
  batch.add_backend(std::make_shared<NamedBackend>("half"));
  batch.add_kernels("half", {tern::function_kernel("Relu", {f32}, copy)});
  batch.add_pass("half.step", [](tern::Graph&, tern::PassContext&) {});
  batch.add_schema({"Relu", 1, 1, 1, 1, {}, widget_schema("").infer, "test.half"}); // refused: the core's
  EXPECT_THROW(scope.registry().commit(std::move(batch)), tern::Error);
  EXPECT_EQ(tern::find_backend("half"), nullptr);
  EXPECT_TRUE(tern::kernels_of("half").empty());
  EXPECT_EQ(scope.registry().find_pass("half.step"), nullptr);
}

TEST(Registry, FindsAnExporterByTargetAndSaysWhereItLookedOtherwise) {
  struct Listing final : tern::Exporter {
    std::string target() const override { return "listing"; }
    void write(const tern::Graph&, const std::filesystem::path&, const tern::Attributes&) const override {}
  };
  ScopedRegistry scope;
  Registrations batch(Owner{"the test", nullptr});
  batch.add_exporter(std::make_shared<Listing>());
  scope.registry().commit(std::move(batch));
  EXPECT_EQ(tern::exporter_for("LISTING").target(), "listing");
  try {
    tern::exporter_for("nowhere");
    FAIL() << "an unknown target must throw";
  } catch (const tern::Error& e) {
    EXPECT_NE(std::string(e.what()).find("no exporter for target 'nowhere'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("libtern-export-nowhere.so"), std::string::npos) << e.what();
  }
}

namespace {

/// "picky": Relu only on rank-2 inputs, declining others with a reason; "fallback": any Relu.
void register_picky_and_fallback() {
  tern::register_backend(std::make_shared<NamedBackend>("picky"));
  tern::register_kernels("picky", {tern::function_kernel("Relu", {f32}, copy, [](const tern::KernelQuery& query) {
                           return query.input_shapes[0].rank() == 2 ? std::string() : "picky runs rank-2 Relu only";
                         })});
  tern::register_backend(std::make_shared<NamedBackend>("fallback"));
  tern::register_kernels("fallback", {tern::function_kernel("Relu", {f32}, copy)});
}

tern::Graph relu_of_rank(std::size_t rank) {
  tern::Graph graph;
  graph.add_input("x", f32, tern::Shape(std::vector<std::int64_t>(rank, 2)));
  graph.add_node("Relu", {"x"}, {"y"}, {}, "relu");
  graph.add_output("y");
  return graph;
}

} // namespace

TEST(Declining, TheNextBackendRunsWhatOneDeclinesAndThePlanSaysWhy) {
  ScopedRegistry scope;
  register_picky_and_fallback();
  const tern::Graph square = relu_of_rank(2), cube = relu_of_rank(3);
  tern::SequentialScheduler runs_on_picky(square, {"picky", "fallback"});
  EXPECT_EQ(runs_on_picky.plan()[0].backend, "picky");
  EXPECT_TRUE(runs_on_picky.plan()[0].passed_over.empty());

  tern::SequentialScheduler falls_back(cube, {"picky", "fallback"});
  const tern::PlanStep& step = falls_back.plan()[0];
  EXPECT_EQ(step.backend, "fallback");
  EXPECT_EQ(step.implementation, "fallback"); // the row names none: the backend's name
  ASSERT_EQ(step.passed_over.size(), 1u);
  EXPECT_EQ(step.passed_over[0].backend, "picky");
  EXPECT_EQ(step.passed_over[0].reason, "picky runs rank-2 Relu only");
}

TEST(Declining, OneErrorListsEveryUnplacedNodeWithEachBackendsReason) {
  ScopedRegistry scope;
  register_picky_and_fallback();
  tern::Graph graph;
  graph.add_input("x", f32, tern::Shape{2, 2, 2});
  graph.add_node("Relu", {"x"}, {"r"}, {}, "first");
  graph.add_node("Sigmoid", {"r"}, {"y"}, {}, "second");
  graph.add_output("y");
  try {
    tern::SequentialScheduler scheduler(graph, {"picky"});
    FAIL() << "a plan with unplaced nodes must throw";
  } catch (const tern::Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "no backend of (picky) runs 2 node(s): node 'first' (Relu) [picky: picky runs rank-2 Relu only]; "
              "node 'second' (Sigmoid) [picky: no Sigmoid kernel for (float32)]. Add a backend that runs them to the "
              "preference list (e.g. picky, cpu)");
  }
}
