import Foundation
import GlassboxData
import GlassboxExplain
import GlassboxNN
import Testing

@Suite struct ExplainableModelTests {
    func saved(in directory: URL) throws -> URL {
        let model = try randomMLP(features: 3, seed: 43)
        let scaler = try Standardizer(mean: [1, 2, 3], std: [2, 4, 0.5])
        let url = directory.appendingPathComponent("model.safetensors")
        try ModelFile.save(model, to: url, metadata: [
            ExplainableModel.Key.featureNames: #"["a","b","c"]"#, ExplainableModel.Key.classNames: #"["no","yes"]"#,
            ExplainableModel.Key.standardizer: String(decoding: try JSONEncoder().encode(scaler), as: UTF8.self),
            ExplainableModel.Key.target: "label", ExplainableModel.Key.groups: #"[{"name":"ac","columns":[0,2]}]"#,
        ])
        return url
    }

    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("glassbox-explain-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Columns are found by name in any order, standardised with the stored scaler, labels mapped by class name.
    @Test func readsRowsInTheModelsInputSpace() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let bundle = try ExplainableModel.load(from: try saved(in: directory))
        #expect(bundle.featureNames == ["a", "b", "c"] && bundle.classNames == ["no", "yes"] && bundle.target == "label")
        let csv = directory.appendingPathComponent("rows.csv")
        try Data("c,extra,label,a,b\n3.5,x,yes,5,2\n2,y,no,1,6\n".utf8).write(to: csv)
        let (inputs, labels) = try bundle.rows(fromCSV: csv)
        #expect(inputs == (try Tensor(rows: [[2, 0, 1], [0, 1, -2]])))
        #expect(labels == [1, 0])
        #expect(bundle.players.names == ["ac", "b"] && bundle.players.groups == [[0, 2], [1]])
        let f = try bundle.predictionFunction(.probability)
        #expect(f.features == 3 && f.outputs == 2)
    }

    @Test func namesTheMissingColumnAndTheBadCell() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let bundle = try ExplainableModel.load(from: try saved(in: directory))
        let missing = directory.appendingPathComponent("missing.csv")
        try Data("a,c\n1,2\n".utf8).write(to: missing)
        #expect(throws: GlassboxError.self) { try bundle.rows(fromCSV: missing) }
        do { _ = try bundle.rows(fromCSV: missing) } catch { #expect("\(error)".contains("missing.csv") && "\(error)".contains("no column 'b'")) }
        let bad = directory.appendingPathComponent("bad.csv")
        try Data("a,b,c,label\n1,2,3,yes\n1,zz,3,no\n".utf8).write(to: bad)
        do { _ = try bundle.rows(fromCSV: bad) } catch { #expect("\(error)".contains("row 3, column 'b'") && "\(error)".contains("'zz'")) }
        let unknownClass = directory.appendingPathComponent("class.csv")
        try Data("a,b,c,label\n1,2,3,maybe\n".utf8).write(to: unknownClass)
        do { _ = try bundle.rows(fromCSV: unknownClass) } catch { #expect("\(error)".contains("'maybe' is not one of the model's classes (no, yes)")) }
    }
}
