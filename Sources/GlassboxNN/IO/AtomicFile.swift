import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file writes that never leave a half-written file behind.
///
/// A reader of the target path sees either the previous contents or the new ones, never a mix:
/// the bytes go to a uniquely named temporary file in the same directory (so the final `rename`
/// stays within one file system and is atomic), are flushed to disk with `fsync`, and only then
/// replace the target. A crash or error at any step leaves the previous target intact and removes
/// the temporary file.
public enum AtomicFile {
    /// Writes `data` to `url` atomically. Cost: one write of `data.count` bytes plus two fsyncs.
    ///
    /// - Throws: ``GlassboxError/io(_:)`` naming the path and the operating system's reason.
    public static func write(_ data: Data, to url: URL) throws {
        let target = url.standardizedFileURL.path
        let directory = (target as NSString).deletingLastPathComponent
        let name = (target as NSString).lastPathComponent
        guard !name.isEmpty, name != "/" else { throw GlassboxError.io("cannot write \(target): not a file path") }

        let (fd, temporary) = try createTemporary(in: directory.isEmpty ? "." : directory, name: name, target: target)
        var succeeded = false
        defer {
            if !succeeded { unlink(temporary) }
        }
        do {
            try writeAll(data, to: fd, target: target)
            guard fsync(fd) == 0 else { throw failure("cannot flush", target) }
        } catch {
            close(fd)
            throw error
        }
        guard close(fd) == 0 else { throw failure("cannot close", target) }
        guard rename(temporary, target) == 0 else { throw failure("cannot replace", target) }
        succeeded = true
        syncDirectory(directory.isEmpty ? "." : directory)
    }

    /// Opens a new file `.<name>.tmp-<random>` exclusively, retrying on the (unlikely) name clash.
    private static func createTemporary(in directory: String, name: String, target: String) throws -> (Int32, String) {
        for _ in 0..<16 {
            let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 36)
            let path = directory + "/." + name + ".tmp-" + suffix
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd >= 0 { return (fd, path) }
            if errno != EEXIST { throw failure("cannot create a temporary file for", target) }
        }
        throw GlassboxError.io("cannot write \(target): could not create a unique temporary file")
    }

    private static func writeAll(_ data: Data, to fd: Int32, target: String) throws {
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            guard let base = raw.baseAddress else { return }
            var offset = 0
            while offset < raw.count {
                let n = systemWrite(fd, base + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw failure("cannot write", target)
                }
                offset += n
            }
        }
    }

    /// Makes the rename itself durable. Best effort: some file systems refuse fsync on directories.
    private static func syncDirectory(_ directory: String) {
        let fd = open(directory, O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            _ = fsync(fd)
            close(fd)
        }
    }

    private static func failure(_ action: String, _ target: String) -> GlassboxError {
        let reason = String(cString: strerror(errno))
        return GlassboxError.io("\(action) \(target): \(reason)")
    }
}

/// The C `write`, reachable under another name because `AtomicFile.write` shadows it.
@inline(__always)
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { write(fd, buffer, count) }
