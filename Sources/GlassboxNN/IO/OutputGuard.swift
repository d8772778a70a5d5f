import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The check every command makes before it works: no output path may name one of the command's
/// own inputs, and every output must be something ``AtomicFile`` may replace.
///
/// Two paths name the same file when `stat` (which follows symbolic links) gives the same device
/// and inode: this catches the same path spelt differently (`./a.csv`, `dir/../a.csv`), symbolic
/// links and hard links. The check runs before any work, so a long training run is not wasted on
/// an output that would be refused. Cost: one `stat` per path.
public enum OutputGuard {
    /// A file a command reads: the option that named it (for the message) and its path.
    public typealias Input = (option: String, path: String?)

    /// Refuses `output` (given by `option`) when it is the same file as any of `inputs`, or when
    /// it is not a regular file or missing path (``AtomicFile/destination(of:)``).
    ///
    /// - Throws: ``GlassboxError/invalidArgument(_:)`` naming both options and paths, or
    ///   ``GlassboxError/io(_:)`` for an output that cannot be replaced.
    public static func check(output: String?, option: String = "--out", inputs: [Input]) throws {
        guard let output else { return }
        let destination = try AtomicFile.destination(of: output)
        guard destination.existing != nil, let outputID = identity(of: destination.path) else { return }
        for input in inputs {
            guard let path = input.path, let inputID = identity(of: path) else { continue }
            if inputID == outputID {
                let same = URL(fileURLWithPath: path).standardizedFileURL.path == URL(fileURLWithPath: output).standardizedFileURL.path
                    ? "" : " (the same file, through a link or another spelling)"
                throw GlassboxError.invalidArgument(
                    "\(option) \(output) would overwrite the input \(input.option) \(path)\(same); write the output to another file")
            }
        }
    }

    /// Refuses each output of `outputs` as ``check(output:option:inputs:)`` does, and any two
    /// outputs that are the same file.
    public static func check(outputs: [Input], inputs: [Input]) throws {
        for (i, output) in outputs.enumerated() {
            try check(output: output.path, option: output.option, inputs: inputs + Array(outputs[..<i]))
        }
    }

    /// Device and inode of the file at `path` (following links), if it exists.
    static func identity(of path: String) -> [UInt64]? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return [UInt64(info.st_dev), UInt64(info.st_ino)]
    }
}
