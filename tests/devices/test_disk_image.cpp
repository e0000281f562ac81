// Unit tests for DiskImage: opening raw images (size checks and error
// messages), range checks, write-through versus snapshot overlays.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "devices/disk_image.h"
#include "tests/devices/temp_image.h"

namespace popek {
namespace {

using test::TempFile;
// Sector s is filled with bytes (s * 7 + i) & 0xFF.
std::vector<uint8_t> patterned(uint32_t sectors) { return test::patterned_sectors(sectors, 512, 7, false); }

TEST(DiskImage, RejectsSizeNotMultipleOf512WithTheFileName) {
  TempFile file(std::vector<uint8_t>(1000, 0));
  DiskImage::OpenResult r = DiskImage::open(file.path(), DiskImage::Mode::ReadWrite);
  EXPECT_EQ(r.image, nullptr);
  EXPECT_EQ(r.error, file.path() + ": size 1000 is not a multiple of 512 bytes");
}

TEST(DiskImage, RejectsEmptyAndMissingFiles) {
  TempFile empty(std::vector<uint8_t>{});
  DiskImage::OpenResult r = DiskImage::open(empty.path(), DiskImage::Mode::ReadOnly);
  EXPECT_EQ(r.image, nullptr);
  EXPECT_EQ(r.error, empty.path() + ": image is empty");
  r = DiskImage::open("/nonexistent/popek/disk.img", DiskImage::Mode::Snapshot);
  EXPECT_EQ(r.image, nullptr);
  EXPECT_NE(r.error.find("/nonexistent/popek/disk.img: cannot open"), std::string::npos);
}

TEST(DiskImage, ReadsAndRangeChecks) {
  TempFile file(patterned(8));
  DiskImage::OpenResult r = DiskImage::open(file.path(), DiskImage::Mode::ReadOnly);
  ASSERT_NE(r.image, nullptr) << r.error;
  DiskImage& img = *r.image;
  EXPECT_EQ(img.sector_count(), 8u);
  std::vector<uint8_t> buf(512 * 2, 0xEE);
  ASSERT_TRUE(img.read(6, 2, buf.data()));
  EXPECT_EQ(buf[0], static_cast<uint8_t>(6 * 7));
  EXPECT_EQ(buf[512 + 5], static_cast<uint8_t>(7 * 7 + 5));
  std::vector<uint8_t> untouched(512 * 2, 0xEE);
  buf = untouched;
  EXPECT_FALSE(img.read(7, 2, buf.data()));
  EXPECT_FALSE(img.read(8, 1, buf.data()));
  EXPECT_FALSE(img.read(UINT64_MAX, 1, buf.data()));
  EXPECT_EQ(buf, untouched);
  EXPECT_TRUE(img.read(8, 0, buf.data()));  // an empty range at the end is fine
  EXPECT_FALSE(img.write(0, 1, buf.data()));  // read-only
  EXPECT_FALSE(img.writable());
}

TEST(DiskImage, ReadWriteModeWritesThrough) {
  TempFile file(patterned(4));
  DiskImage::OpenResult r = DiskImage::open(file.path(), DiskImage::Mode::ReadWrite);
  ASSERT_NE(r.image, nullptr) << r.error;
  std::vector<uint8_t> data(512, 0xA5);
  ASSERT_TRUE(r.image->write(2, 1, data.data()));
  EXPECT_TRUE(r.image->flush());
  EXPECT_FALSE(r.image->write(4, 1, data.data()));
  EXPECT_FALSE(r.image->write(3, 2, data.data()));
  std::vector<uint8_t> on_disk = file.contents();
  ASSERT_EQ(on_disk.size(), 4u * 512);
  EXPECT_EQ(on_disk[2 * 512], 0xA5);
  EXPECT_EQ(on_disk[3 * 512 - 1], 0xA5);
  EXPECT_EQ(on_disk[3 * 512], static_cast<uint8_t>(3 * 7));
  EXPECT_EQ(r.image->overlay_sectors(), 0u);
}

TEST(DiskImage, SnapshotModeKeepsWritesInMemory) {
  const std::vector<uint8_t> original = patterned(4);
  TempFile file(original);
  DiskImage::OpenResult r = DiskImage::open(file.path(), DiskImage::Mode::Snapshot);
  ASSERT_NE(r.image, nullptr) << r.error;
  std::vector<uint8_t> data(1024, 0x5A);
  ASSERT_TRUE(r.image->write(1, 2, data.data()));
  EXPECT_EQ(r.image->overlay_sectors(), 2u);
  std::vector<uint8_t> back(512 * 4);
  ASSERT_TRUE(r.image->read(0, 4, back.data()));
  EXPECT_EQ(back[0], 0);
  EXPECT_EQ(back[512], 0x5A);
  EXPECT_EQ(back[3 * 512 - 1], 0x5A);
  EXPECT_EQ(back[3 * 512], static_cast<uint8_t>(3 * 7));
  EXPECT_EQ(file.contents(), original);
}

TEST(DiskImage, ReadWriteOpenIsExclusive) {
  TempFile file(patterned(2));
  DiskImage::OpenResult writer = DiskImage::open(file.path(), DiskImage::Mode::ReadWrite);
  ASSERT_NE(writer.image, nullptr) << writer.error;
  DiskImage::OpenResult second = DiskImage::open(file.path(), DiskImage::Mode::ReadWrite);
  EXPECT_EQ(second.image, nullptr);
  EXPECT_NE(second.error.find(file.path() + ": image is locked"), std::string::npos);
  EXPECT_EQ(DiskImage::open(file.path(), DiskImage::Mode::Snapshot).image, nullptr);
  writer.image.reset();
  // Readers share.
  DiskImage::OpenResult a = DiskImage::open(file.path(), DiskImage::Mode::Snapshot);
  DiskImage::OpenResult b = DiskImage::open(file.path(), DiskImage::Mode::ReadOnly);
  EXPECT_NE(a.image, nullptr);
  EXPECT_NE(b.image, nullptr);
  EXPECT_EQ(DiskImage::open(file.path(), DiskImage::Mode::ReadWrite).image, nullptr);
}

TEST(DiskImage, BlankImageIsZeroAndWritable) {
  auto img = DiskImage::blank(16);
  EXPECT_EQ(img->sector_count(), 16u);
  std::vector<uint8_t> buf(512, 0xFF);
  ASSERT_TRUE(img->read(15, 1, buf.data()));
  EXPECT_EQ(buf, std::vector<uint8_t>(512, 0));
  std::vector<uint8_t> data(512, 0x11);
  ASSERT_TRUE(img->write(15, 1, data.data()));
  ASSERT_TRUE(img->read(15, 1, buf.data()));
  EXPECT_EQ(buf, data);
  EXPECT_FALSE(img->write(16, 1, data.data()));
}

}  // namespace
}  // namespace popek
