import Foundation
import Testing
import GlassboxData
import GlassboxNN

@Suite struct CSVDatasetTests {
    static func load(_ text: String, target: String = "y") throws -> Dataset {
        try Dataset.parseCSV(Data(text.utf8), path: "d.csv", target: target)
    }

    @Test func stringClassesAreSorted() throws {
        let ds = try Self.load("a,y,b\n1.5,dog,-2\n2,cat,3e2\n 4 ,dog, 0.25\n")
        #expect(ds.featureNames == ["a", "b"])
        #expect(ds.classNames == ["cat", "dog"])
        #expect(ds.labels == [1, 0, 1])
        #expect(ds.features == (try Tensor(shape: [3, 2], scalars: [1.5, -2, 2, 300, 4, 0.25])))
        #expect(ds.count == 3 && ds.featureCount == 2 && ds.numClasses == 2)
        #expect(ds.classCounts == [1, 2])
    }

    @Test func integerClassesAreSortedNumerically() throws {
        let ds = try Self.load("x,y\n1,10\n2,2\n3,1\n4,2\n")
        #expect(ds.classNames == ["1", "2", "10"])
        #expect(ds.labels == [2, 1, 0, 1])
    }

    @Test func headerErrors() {
        expectBadFile(path: "d.csv", location: "", problem: "file is empty") { _ = try Self.load("") }
        expectBadFile(path: "d.csv", problem: "file is empty") { _ = try Self.load("\u{FEFF}\n\n") }
        expectBadFile(path: "d.csv", location: "row 1", problem: "header but no data rows") { _ = try Self.load("a,y\n") }
        expectBadFile(path: "d.csv", location: "row 1", problem: "no column named 'y' for the target (columns: a, b)") {
            _ = try Self.load("a,b\n1,2\n")
        }
        expectBadFile(path: "d.csv", location: "row 1, column 'a'", problem: "duplicate column name (columns 1 and 3)") {
            _ = try Self.load("a,y,a\n1,2,3\n")
        }
        expectBadFile(path: "d.csv", location: "row 1, column 2", problem: "empty column name") { _ = try Self.load("a,,y\n1,2,3\n") }
        expectBadFile(path: "d.csv", location: "row 1", problem: "no feature columns") { _ = try Self.load("y\n1\n2\n") }
    }

    @Test func cellErrorsNameRowAndColumn() {
        let cases: [(String, String, String)] = [
            ("a,b,y\n1,2,x\n3,abc,z\n", "row 3, column 'b'", "'abc' is not a number"),
            ("a,b,y\n1,2,x\n3,,z\n", "row 3, column 'b'", "empty cell (missing value)"),
            ("a,b,y\n1,  ,x\n3,4,z\n", "row 2, column 'b'", "empty cell"),
            ("a,b,y\n1,NaN,x\n3,4,z\n", "row 2, column 'b'", "'NaN' is not a finite number"),
            ("a,b,y\n1,2,x\n-inf,4,z\n", "row 3, column 'a'", "'-inf' is not a finite number"),
            ("a,b,y\n1,1e39,x\n3,4,z\n", "row 2, column 'b'", "outside the range of Float"),
            ("a,b,y\n1,2,x\n3,4,\n", "row 3, column 'y'", "empty cell (missing class)"),
            ("a,b,y\n1,2,x\n3,4\n", "row 3", "ragged"),
            ("a,b,y\n1,2,\"x\ny\"\n5,\"six\",z\n", "row 3 (line 4), column 'b'", "'six' is not a number"),
        ]
        for (text, location, problem) in cases {
            expectBadFile(path: "d.csv", location: location, problem: problem) { _ = try Self.load(text) }
        }
    }

    @Test func singleClass() {
        expectBadFile(path: "d.csv", location: "column 'y'", problem: "only one class ('same') in 2 rows") {
            _ = try Self.load("a,y\n1,same\n2,same\n")
        }
    }

    @Test func loadCSVNamesTheFile() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        let good = try dir.write("good.csv", "\u{FEFF}age,income,label\r\n30,1000,no\r\n40,2000,yes\r\n")
        let ds = try Dataset.loadCSV(good, target: "label")
        #expect(ds.features.shape == [2, 2] && ds.classNames == ["no", "yes"])
        let bad = try dir.write("bad.csv", "age,income,label\n30,1000,no\n40,lots,yes\n")
        let message = expectBadFile(path: bad.path, location: "row 3, column 'income'", problem: "'lots' is not a number") {
            _ = try Dataset.loadCSV(bad, target: "label")
        }
        #expect(message == "\(bad.path): row 3, column 'income': 'lots' is not a number")
    }

    @Test func datasetInvariants() throws {
        #expect(throws: GlassboxError.self) {
            _ = try Dataset(features: Tensor.zeros([2, 3]), labels: [0], featureNames: ["a", "b", "c"], classNames: ["x", "y"])
        }
        #expect(throws: GlassboxError.self) {
            _ = try Dataset(features: Tensor.zeros([2, 3]), labels: [0, 2], featureNames: ["a", "b", "c"], classNames: ["x", "y"])
        }
        #expect(throws: GlassboxError.self) {
            _ = try Dataset(features: Tensor.zeros([2, 3]), labels: [0, 1], featureNames: ["a", "b"], classNames: ["x", "y"])
        }
        let ds = try Dataset(features: try Tensor(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6]), labels: [0, 1, 0],
                             featureNames: ["a", "b"], classNames: ["x", "y"])
        let sub = ds.subset([2, 0, 2])
        #expect(sub.features.scalars == [5, 6, 1, 2, 5, 6])
        #expect(sub.labels == [0, 0, 0])
        #expect(ds.subset([]).features.shape == [0, 2])
    }
}
