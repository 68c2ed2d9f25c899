#pragma once
/// \file tern.hpp
/// Umbrella header: everything an application needs to build or load a graph, pick a
/// backend by name, run it, and rewrite it.

#include <tern/arena_plan.hpp>
#include <tern/attributes.hpp>
#include <tern/dataset.hpp>
#include <tern/backend.hpp>
#include <tern/dtype.hpp>
#include <tern/error.hpp>
#include <tern/graph.hpp>
#include <tern/idx.hpp>
#include <tern/kernel.hpp>
#include <tern/model_format.hpp>
#include <tern/explore.hpp>
#include <tern/export.hpp>
#include <tern/model_stats.hpp>
#include <tern/npy.hpp>
#include <tern/operator.hpp>
#include <tern/pass.hpp>
#include <tern/plugin.hpp>
#include <tern/ptq.hpp>
#include <tern/recipes.hpp>
#include <tern/registry.hpp>
#include <tern/runtime.hpp>
#include <tern/scheduler.hpp>
#include <tern/shape.hpp>
#include <tern/tensor.hpp>
#include <tern/version.hpp>
#include <tern/window.hpp>
