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
        try write([(data, url)])
    }

    /// Writes several files that belong together (a data file and its sidecar) so that a failure
    /// while writing any of them replaces none: every file's bytes are written and flushed to a
    /// temporary file first, and only when all succeeded (and no target is a directory) are the
    /// targets replaced, in order, each by an atomic `rename`. (A rename failing after an earlier
    /// one succeeded — the directory's permissions changed meanwhile — is the one case that leaves
    /// the set mixed; the error then names that file.) Cost: as ``write(_:to:)`` per file.
    ///
    /// - Throws: ``GlassboxError/io(_:)`` naming the path and the operating system's reason.
    public static func write(_ files: [(data: Data, url: URL)]) throws {
        var staged: [(temporary: String, target: String, directory: String)] = []
        var renamed = 0
        defer {
            for file in staged[renamed...] { unlink(file.temporary) }
        }
        for (data, url) in files {
            let target = url.standardizedFileURL.path
            let parent = (target as NSString).deletingLastPathComponent
            let directory = parent.isEmpty ? "." : parent
            let name = (target as NSString).lastPathComponent
            guard !name.isEmpty, name != "/" else { throw GlassboxError.io("cannot write \(target): not a file path") }
            let (fd, temporary) = try createTemporary(in: directory, name: name, target: target)
            staged.append((temporary, target, directory))
            do {
                try writeAll(data, to: fd, target: target)
                guard fsync(fd) == 0 else { throw failure("cannot flush", target) }
            } catch {
                close(fd)
                throw error
            }
            guard close(fd) == 0 else { throw failure("cannot close", target) }
        }
        // A directory in a target's place would fail its rename after earlier ones succeeded:
        // refuse before replacing anything.
        for file in staged {
            var info = stat()
            if stat(file.target, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
                throw GlassboxError.io("cannot replace \(file.target): it is a directory")
            }
        }
        for file in staged {
            guard rename(file.temporary, file.target) == 0 else { throw failure("cannot replace", file.target) }
            renamed += 1
        }
        for directory in Set(staged.map(\.directory)) { syncDirectory(directory) }
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
