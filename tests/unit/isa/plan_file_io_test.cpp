//===- plan_file_io_test.cpp - readPlanFile / writePlanFile ----------------===//
#include "mk/isa/plan_file.h"

#include "toy_plan.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <dirent.h>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace mk::isa {
namespace {

class PlanFileIo : public testing::Test {
protected:
  void SetUp() override {
    std::string pattern = testing::TempDir() + "mk_plan_io_XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    if (DIR *d = ::opendir(dir_.c_str())) {
      while (dirent *e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name == "." || name == "..")
          continue;
        std::string path = dir_ + "/" + name;
        if (::unlink(path.c_str()) != 0)
          ::rmdir(path.c_str());
      }
      ::closedir(d);
    }
    ::rmdir(dir_.c_str());
  }
  std::string path(const std::string &name) const { return dir_ + "/" + name; }
  static void writeBytes(const std::string &p, const std::vector<uint8_t> &bytes) {
    std::ofstream f(p, std::ios::binary);
    f.write(reinterpret_cast<const char *>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  }
  static std::vector<uint8_t> readBytes(const std::string &p) {
    std::ifstream f(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
  }
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    if (DIR *d = ::opendir(dir_.c_str())) {
      while (dirent *e = ::readdir(d))
        if (std::string(e->d_name) != "." && std::string(e->d_name) != "..")
          names.push_back(e->d_name);
      ::closedir(d);
    }
    return names;
  }
  std::string dir_;
};

TEST_F(PlanFileIo, WriteThenReadRoundTrips) {
  Plan plan = test::makeToyPlan();
  const std::string p = path("toy.mkp");
  Status s = writePlanFile(p, plan);
  ASSERT_TRUE(s.isOk()) << s.message();
  EXPECT_EQ(entries(), std::vector<std::string>{"toy.mkp"}); // no temp file left
  Plan back;
  s = readPlanFile(p, back);
  ASSERT_TRUE(s.isOk()) << s.message();
  test::expectPlansEqual(plan, back);
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(writePlan(plan, bytes).isOk());
  EXPECT_EQ(readBytes(p), bytes);
}

TEST_F(PlanFileIo, OverwritesAnExistingPlanWhole) {
  const std::string p = path("p.mkp");
  writeBytes(p, std::vector<uint8_t>(100000, 0xab)); // longer than the new plan
  Plan plan = test::makeToyPlan();
  ASSERT_TRUE(writePlanFile(p, plan).isOk());
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(writePlan(plan, bytes).isOk());
  EXPECT_EQ(readBytes(p), bytes);
}

TEST_F(PlanFileIo, MissingFileNamesThePath) {
  Plan out;
  const std::string p = path("missing.mkp");
  Status s = readPlanFile(p, out);
  ASSERT_FALSE(s.isOk());
  EXPECT_EQ(s.message(), p + ": cannot open plan file: No such file or directory");
}

TEST_F(PlanFileIo, EmptyFileNamesThePath) {
  const std::string p = path("empty.mkp");
  writeBytes(p, {});
  Plan out;
  Status s = readPlanFile(p, out);
  ASSERT_FALSE(s.isOk());
  EXPECT_EQ(s.message(), p + ": empty plan: 0 bytes, expected a 40-byte header starting "
                             "with the magic \"MKPLAN\\0\\1\"");
}

TEST_F(PlanFileIo, TruncatedFileNamesThePathAndTheSizes) {
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(writePlan(test::makeToyPlan(), bytes).isOk());
  const std::string p = path("cut.mkp");
  const size_t payload = bytes.size() - kPlanHeaderBytes;
  bytes.resize(bytes.size() - 1000);
  writeBytes(p, bytes);
  Plan out;
  Status s = readPlanFile(p, out);
  ASSERT_FALSE(s.isOk());
  EXPECT_EQ(s.message(), p + ": truncated payload: the header says " +
                             std::to_string(payload) + " bytes, file has " +
                             std::to_string(payload - 1000) +
                             " after the 40-byte header");
}

TEST_F(PlanFileIo, DirectoryIsNotAPlan) {
  Plan out;
  Status s = readPlanFile(dir_, out);
  ASSERT_FALSE(s.isOk());
  EXPECT_EQ(s.message(), dir_ + ": is a directory, expected a plan file");
}

TEST_F(PlanFileIo, DeviceIsNotAPlan) {
  Plan out;
  Status s = readPlanFile("/dev/zero", out);
  ASSERT_FALSE(s.isOk());
  EXPECT_EQ(s.message(), "/dev/zero: not a regular file, expected a plan file");
}

TEST_F(PlanFileIo, FailedWriteLeavesTheExistingFileAlone) {
  const std::string p = path("keep.mkp");
  const std::vector<uint8_t> old = {1, 2, 3, 4, 5};
  writeBytes(p, old);
  // Occupy the temp name with a directory: creating the temp file fails even as root,
  // where a read-only directory would not stop us.
  const std::string tmp = p + ".tmp." + std::to_string(::getpid());
  ASSERT_EQ(::mkdir(tmp.c_str(), 0755), 0);
  Status s = writePlanFile(p, test::makeToyPlan());
  ASSERT_FALSE(s.isOk());
  EXPECT_EQ(s.message(),
            p + ": cannot create temporary file '" + tmp + "': Is a directory");
  EXPECT_EQ(readBytes(p), old);
}

TEST_F(PlanFileIo, WriteIntoMissingDirectoryNamesThePath) {
  const std::string p = path("no/such/dir/p.mkp");
  Status s = writePlanFile(p, test::makeToyPlan());
  ASSERT_FALSE(s.isOk());
  EXPECT_EQ(s.message().rfind(p + ": cannot create temporary file", 0), 0u)
      << s.message();
  EXPECT_NE(s.message().find("No such file or directory"), std::string::npos);
}

TEST_F(PlanFileIo, UnwritablePlanIsRefusedBeforeTouchingTheFile) {
  const std::string p = path("keep.mkp");
  writeBytes(p, {9, 9});
  Plan plan = test::makeToyPlan();
  plan.tensors[0].rank = 7;
  Status s = writePlanFile(p, plan);
  ASSERT_FALSE(s.isOk());
  EXPECT_EQ(s.message().rfind(p + ": cannot write plan: tensor 0", 0), 0u) << s.message();
  EXPECT_EQ(readBytes(p), (std::vector<uint8_t>{9, 9}));
  EXPECT_EQ(entries(), std::vector<std::string>{"keep.mkp"});
}

} // namespace
} // namespace mk::isa
