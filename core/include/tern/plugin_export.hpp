#pragma once
/// \file plugin_export.hpp
/// Include in exactly one file of a plugin (its kernel_table.cpp) and use
/// TERN_PLUGIN(...) once: it defines the descriptor and exports the entry symbol.

#include <tern/plugin.hpp>

#include <boost/dll/alias.hpp>

/// Defines the plugin's descriptor and exports it as `tern_plugin_descriptor`.
/// name: "cpu" (the file must be libtern-cpu.so); kind: tern::PluginKind::Backend;
/// probe: a tern::PluginProbeFn or nullptr; register_fn: a tern::PluginRegisterFn.
#define TERN_PLUGIN(plugin_name, plugin_version, plugin_description, plugin_kind, probe_fn, register_fn)               \
  namespace {                                                                                                          \
  const ::tern::PluginDescriptor* tern_plugin_entry() {                                                                \
    static const ::tern::PluginDescriptor descriptor{::tern::plugin_magic,                                             \
                                                     sizeof(::tern::PluginDescriptor),                                 \
                                                     ::tern::plugin_abi_major,                                         \
                                                     ::tern::plugin_abi_minor,                                         \
                                                     TERN_VERSION_MAJOR,                                               \
                                                     TERN_VERSION_MINOR,                                               \
                                                     TERN_VERSION_PATCH,                                               \
                                                     TERN_COMPILER_ABI_TAG,                                            \
                                                     plugin_name,                                                      \
                                                     plugin_version,                                                   \
                                                     plugin_description,                                               \
                                                     plugin_kind,                                                      \
                                                     probe_fn,                                                         \
                                                     register_fn};                                                     \
    return &descriptor;                                                                                                \
  }                                                                                                                    \
  }                                                                                                                    \
  BOOST_DLL_ALIAS(tern_plugin_entry, tern_plugin_descriptor)
