import Testing
@testable import GlassboxNN

/// Expects `body` to throw a ``GlassboxError`` whose message mentions every string in `parts`
/// (the offending values and shapes).
func expectError(mentioning parts: [String], sourceLocation: SourceLocation = #_sourceLocation,
                 _ body: () throws -> Any) {
    let error = #expect(throws: GlassboxError.self, sourceLocation: sourceLocation) { _ = try body() }
    let message = error.map { "\($0)" } ?? ""
    for part in parts {
        #expect(message.contains(part), "error \"\(message)\" should mention \(part)", sourceLocation: sourceLocation)
    }
}
