import Foundation
import Testing
import GlassboxData
import GlassboxNN

@Suite struct CSVWriterTests {
    @Test(arguments: [
        ("plain", "plain"),
        ("a,b", "\"a,b\""),
        ("say \"hi\"", "\"say \"\"hi\"\"\""),
        ("two\nlines", "\"two\nlines\""),
        ("cr\rlf", "\"cr\rlf\""),
        (" padded", "\" padded\""),
        ("", ""),
    ])
    func escaping(field: String, expected: String) throws {
        #expect(CSVWriter.escape(field) == expected)
        // The reader is the oracle: every escaped field reads back unchanged.
        let records = try CSV.parse(Data(CSVWriter.record([field, "z"]).utf8), path: "e.csv")
        #expect(records.map(\.fields) == [[field, "z"]])
    }

    /// Load → write → load gives the same dataset, categorical columns and missing cells included.
    @Test func roundTripWithCategoriesAndMissingCells() throws {
        let text = "n,\"kind, of\",y\n1.5,\"a \"\"b\"\"\",p\n,c,q\n-2e-7,,p\n3,c,q\n"
        var options = CSVDatasetOptions()
        options.imputation = .median
        let original = try Dataset.parseCSV(Data(text.utf8), path: "in.csv", target: "y", options: options)
        #expect(original.featureNames == ["n", "kind, of=a \"b\"", "kind, of=c"])
        let written = try original.csvData(target: "y")
        #expect(String(decoding: written, as: UTF8.self) == "n,\"kind, of\",y\n1.5,\"a \"\"b\"\"\",p\n,c,q\n-2e-07,,p\n3.0,c,q\n")
        let reread = try Dataset.parseCSV(written, path: "out.csv", target: "y", options: options)
        #expect(reread == original)
    }

    /// Every Float survives the text form bit for bit.
    @Test func syntheticDataRoundTripsThroughAFile() throws {
        let r = try SyntheticClassification.generate(.init(samples: 300, features: 6, informative: 3, redundant: 1, classes: 3,
                                                           scale: nil), seed: 5)
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        let url = dir.file("synthetic.csv")
        try r.dataset.writeCSV(to: url)
        let back = try Dataset.loadCSV(url, target: "target")
        #expect(back.features.scalars.map(\.bitPattern) == r.dataset.features.scalars.map(\.bitPattern))
        #expect(back.labels == r.dataset.labels && back.classNames == r.dataset.classNames && back.featureNames == r.dataset.featureNames)
        // Atomic write: no temporary file is left beside the target.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path) == ["synthetic.csv"])
    }

    @Test func errors() throws {
        let ds = try Dataset.parseCSV(Data("a,c,y\n1,u,p\n2,v,q\n".utf8), path: "d.csv", target: "y")
        #expect(throws: GlassboxError.invalidArgument("the target column name 'a' is also a feature column; choose another")) {
            _ = try ds.csvData(target: "a")
        }
        let standardized = try ds.standardized(with: Standardizer.fit(ds.features))
        #expect(throws: GlassboxError.self) { _ = try standardized.csvData() }
        let nan = try Dataset(features: Tensor(shape: [1, 1], scalars: [.nan]), labels: [0], featureNames: ["a"], classNames: ["p"])
        #expect(throws: GlassboxError.self) { _ = try nan.csvData() }
        #expect(throws: GlassboxError.self) { try ds.writeCSV(to: URL(fileURLWithPath: "/nonexistent-dir/x.csv")) }
    }
}
