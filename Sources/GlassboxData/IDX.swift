import Foundation
import GlassboxNN

/// The IDX format of MNIST and Fashion-MNIST, raw or gzip-compressed (detected by the gzip
/// magic `1f 8b`, not the file name).
///
/// Layout: two zero bytes, a type byte (`0x08` = uint8), the number of dimensions, each
/// dimension as a big-endian UInt32, then the elements in C order. Images have magic
/// `0x00000803` (`[n, rows, cols]`), labels `0x00000801` (`[n]`).
public enum IDX {
    /// Reads an image file (magic 0x00000803) into `[n, 1, rows, cols]` with pixels scaled from
    /// 0...255 to 0...1. Cost: one read, one decompression if gzipped, one `Float` copy.
    public static func readImages(from url: URL, maxBytes: Int = Inflate.defaultMaxOutput) throws -> Tensor {
        try decodeImages(load(url, maxBytes: maxBytes), path: url.path)
    }

    /// Reads a label file (magic 0x00000801) into one integer per item.
    public static func readLabels(from url: URL, maxBytes: Int = Inflate.defaultMaxOutput) throws -> [Int] {
        try decodeLabels(load(url, maxBytes: maxBytes), path: url.path)
    }

    /// Decodes uncompressed or gzipped image bytes; `path` is used in error messages only.
    public static func decodeImages(_ data: Data, path: String) throws -> Tensor {
        let data = try decompressIfNeeded(data, path: path)
        return try parse(data, path: path, expectedDimensions: 3) { dims, body in
            let scale: Float = 1 / 255
            let pixels = [Float](unsafeUninitializedCapacity: body.count) { out, initialized in
                for i in 0..<body.count { out[i] = Float(body[i]) * scale }
                initialized = body.count
            }
            return Tensor(uncheckedShape: [dims[0], 1, dims[1], dims[2]], scalars: pixels)
        }
    }

    /// Decodes uncompressed or gzipped label bytes; `path` is used in error messages only.
    public static func decodeLabels(_ data: Data, path: String) throws -> [Int] {
        let data = try decompressIfNeeded(data, path: path)
        return try parse(data, path: path, expectedDimensions: 1) { _, body in body.map { Int($0) } }
    }

    private static func load(_ url: URL, maxBytes: Int) throws -> Data {
        let data = try FileData.read(url, maxBytes: maxBytes)
        return Inflate.isGzip(data) ? try Inflate.gunzip(data, path: url.path, maxOutput: maxBytes) : data
    }

    private static func decompressIfNeeded(_ data: Data, path: String) throws -> Data {
        Inflate.isGzip(data) ? try Inflate.gunzip(data, path: path) : data
    }

    /// Validates the header against the data actually present and hands the element bytes to `body`.
    private static func parse<T>(_ data: Data, path: String, expectedDimensions: Int,
                                 _ body: ([Int], UnsafeBufferPointer<UInt8>) -> T) throws -> T {
        func bad(_ offset: Int, _ problem: String) -> GlassboxError {
            .badFile(path: path, location: "byte offset \(offset)", problem: problem)
        }
        return try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = raw.bindMemory(to: UInt8.self)
            guard bytes.count >= 4 else { throw bad(0, "file is \(bytes.count) bytes, too short for an IDX header") }
            let expectedMagic = String(format: "0x%08x", 0x800 + expectedDimensions)
            guard bytes[0] == 0, bytes[1] == 0 else {
                let magic = String(format: "0x%02x%02x%02x%02x", bytes[0], bytes[1], bytes[2], bytes[3])
                throw bad(0, "not an IDX file (magic \(magic), expected \(expectedMagic))")
            }
            guard bytes[2] == 0x08 else {
                throw bad(2, String(format: "element type 0x%02x is not supported (only 0x08, unsigned bytes)", bytes[2]))
            }
            guard Int(bytes[3]) == expectedDimensions else {
                let what = expectedDimensions == 3 ? "an image file" : "a label file"
                throw bad(3, "has \(bytes[3]) dimensions but \(what) has \(expectedDimensions) (magic \(expectedMagic))")
            }
            let headerLength = 4 + 4 * expectedDimensions
            guard bytes.count >= headerLength else { throw bad(4, "file ends inside the dimension sizes") }
            var dims: [Int] = []
            for d in 0..<expectedDimensions {
                dims.append(Int(UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: 4 + 4 * d, as: UInt32.self))))
            }
            let available = bytes.count - headerLength
            var count = dims.contains(0) ? 0 : 1
            for extent in dims where count > 0 {
                let (product, overflow) = count.multipliedReportingOverflow(by: extent)
                guard !overflow, product <= available else {
                    throw bad(headerLength, "dimensions \(dims) need more bytes than the \(available) after the header: "
                                  + "the file is truncated or the header is wrong")
                }
                count = product
            }
            guard count == available else {
                throw bad(headerLength, "dimensions \(dims) describe \(count) bytes but \(available) follow the header")
            }
            return body(dims, UnsafeBufferPointer(rebasing: bytes[headerLength...]))
        }
    }
}
