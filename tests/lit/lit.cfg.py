# lit configuration for mk: every test runs mk-opt / mkc and checks output with FileCheck.
import os
import lit.formats

config.name = "mk"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(os.path.dirname(config.mk_tools_dir), "tests", "lit-out")
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py.in", "Inputs"]
config.environment["PATH"] = os.pathsep.join(
    [config.mk_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")])
config.substitutions.append(("%mk_src", config.mk_src_root))
config.substitutions.append(("%presets", os.path.join(config.mk_src_root, "models", "presets")))
