import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file reads with errors that name the path and a size cap checked before allocating.
public enum FileData {
    /// Reads all of `url`. Cost: one allocation of the file's size.
    ///
    /// - Parameter maxBytes: files larger than this are refused before anything is read.
    /// - Throws: ``GlassboxError/io(_:)`` if the file cannot be opened or read,
    ///   ``GlassboxError/badFile(path:location:problem:)`` if it is larger than `maxBytes`.
    public static func read(_ url: URL, maxBytes: Int = Int.max) throws -> Data {
        let path = url.path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw GlassboxError.io("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw GlassboxError.io("cannot read \(path): \(String(cString: strerror(errno)))") }
        guard (info.st_mode & S_IFMT) != S_IFDIR else { throw GlassboxError.io("cannot read \(path): it is a directory") }
        let size = Int(info.st_size)
        guard size <= maxBytes else {
            throw GlassboxError.badFile(path: path, location: "", problem: "file is \(size) bytes, more than the limit of \(maxBytes)")
        }
        // The size is only a hint (the file may change or be a pipe); the loop reads to EOF under the cap.
        var data = Data(count: Swift.max(size, 0))
        var filled = 0
        while true {
            if filled == data.count {
                guard filled < maxBytes else {
                    var probe: UInt8 = 0
                    if systemRead(fd, &probe, 1) > 0 {
                        throw GlassboxError.badFile(path: path, location: "", problem: "file is larger than the limit of \(maxBytes) bytes")
                    }
                    break
                }
                data.count = Swift.min(maxBytes, Swift.max(4096, filled * 2))
            }
            let n = data.withUnsafeMutableBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return systemRead(fd, base + filled, raw.count - filled)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw GlassboxError.io("cannot read \(path): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            filled += n
        }
        data.count = filled
        return data
    }
}

/// The C `read`, reachable under another name because `FileData.read` shadows it.
@inline(__always)
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int { read(fd, buffer, count) }

extension Data {
    /// Appends `values` as little-endian IEEE float32 — the byte order of NPY and safetensors.
    public mutating func appendLittleEndian(_ values: UnsafeBufferPointer<Float>) {
        #if _endian(little)
        append(values)
        #else
        for v in values { Swift.withUnsafeBytes(of: v.bitPattern.littleEndian) { append(contentsOf: $0) } }
        #endif
    }
}
