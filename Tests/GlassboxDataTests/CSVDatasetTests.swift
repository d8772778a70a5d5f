import Foundation
import Testing
import GlassboxData
import GlassboxNN

@Suite struct CSVDatasetTests {
    static func load(_ text: String, target: String = "y", options: CSVDatasetOptions = .init()) throws -> Dataset {
        try Dataset.parseCSV(Data(text.utf8), path: "d.csv", target: target, options: options)
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
        expectBadFile(path: "d.csv", location: "row 1", problem: "file is empty") { _ = try Self.load("") }
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
            ("a,b,y\n1,NaN,x\n3,4,z\n", "row 2, column 'b'", "'NaN' marks a missing value"),
            ("a,b,y\n1,?,x\n3,4,z\n", "row 2, column 'b'", "'?' marks a missing value; enable imputation"),
            ("a,b,y\n1,inf,x\n3,4,z\n", "row 2, column 'b'", "'inf' is not a finite number"),
            ("a,b,y\n1,2,x\n-inf,4,z\n", "row 3, column 'a'", "'-inf' is not a finite number"),
            ("a,b,y\n1,1e39,x\n3,4,z\n", "row 2, column 'b'", "outside the range of Float"),
            ("a,b,y\n1,2,x\n3,4,\n", "row 3, column 'y'", "empty cell (missing class)"),
            ("a,b,y\n1,2,NA\n3,4,z\n", "row 2, column 'y'", "'NA' marks a missing class"),
            ("a,b,y\n1,2,x\n3,4,z\n5,6\n", "row 4", "has 2 fields but row 1 has 3 (ragged row)"),
            ("a,b,y\n1,2,x\n3,4\n", "row 3", "ragged"),
            ("a,b,y\n1,2,\"x\ny\"\n5,\"six\",z\n", "row 3 (line 4), column 'b'", "'six' is not a number"),
        ]
        for (text, location, problem) in cases {
            expectBadFile(path: "d.csv", location: location, problem: problem) { _ = try Self.load(text) }
        }
    }

    /// A column of numbers with a stray word is a data error, reported at the word; a column of
    /// words with a stray number is categorical.
    @Test func mixedColumnRule() throws {
        expectBadFile(path: "d.csv", location: "row 3, column 'b'",
                      problem: "'oops' is not a number (the column is numeric: 3 of its 4 filled cells are numbers)") {
            _ = try Self.load("a,b,y\n1,2,x\n2,oops,x\n3,3,z\n4,5,z\n")
        }
        let ds = try Self.load("a,b,y\n1,low,x\n2,high,x\n3,7,z\n4,low,z\n")
        #expect(ds.featureNames == ["a", "b=7", "b=high", "b=low"])
        // Declared numeric, a column of words fails at its first word.
        var options = CSVDatasetOptions()
        options.numeric = ["b"]
        expectBadFile(path: "d.csv", location: "row 2, column 'b'", problem: "'low' is not a number") {
            _ = try Self.load("a,b,y\n1,low,x\n2,high,x\n3,7,z\n4,low,z\n", options: options)
        }
    }

    /// With several bad cells the first in reading order is reported, whichever column it is in.
    @Test func firstBadCellInReadingOrder() {
        expectBadFile(path: "d.csv", location: "row 3, column 'b'", problem: "'oops' is not a number") {
            _ = try Self.load("a,b,y\n1,2,x\n2,oops,x\nbad,3,z\n4,5,z\n5,6,z\n")
        }
        expectBadFile(path: "d.csv", location: "row 2, column 'y'", problem: "missing class") {
            _ = try Self.load("a,b,y\n1,2,\n2,oops,x\n3,3,z\n4,5,z\n")
        }
        expectBadFile(path: "d.csv", location: "row 2, column 'a'", problem: "missing value") {
            _ = try Self.load("a,b,y\n,,\n2,3,x\n3,3,z\n")
        }
    }

    @Test func missingMarkersAreConfigurable() throws {
        var options = CSVDatasetOptions()
        options.missingMarkers = ["-999"]
        expectBadFile(path: "d.csv", location: "row 3, column 'a'", problem: "'-999' marks a missing value") {
            _ = try Self.load("a,y\n1,x\n-999,z\n", options: options)
        }
        // No longer a marker: "nan" is a number, and not a finite one.
        expectBadFile(path: "d.csv", location: "row 2, column 'a'", problem: "'nan' is not a finite number") {
            _ = try Self.load("a,y\nnan,x\n2,z\n3,z\n", options: options)
        }
        // A marker that is not a number: text in a numeric column would otherwise be an error.
        options.missingMarkers = ["missing"]
        options.imputation = .mean
        let ds = try Self.load("a,y\n1,x\nmissing,z\n3,z\n", options: options)
        #expect(ds.features.scalars == [1, 2, 3] && ds.missingCells == [1])
    }

    @Test func optionErrors() {
        var options = CSVDatasetOptions()
        options.categorical = ["nope"]
        expectBadFile(path: "d.csv", location: "row 1", problem: "the categorical option names 'nope', which is not a feature column") {
            _ = try Self.load("a,y\n1,x\n2,z\n", options: options)
        }
        options.categorical = ["y"]
        expectBadFile(path: "d.csv", problem: "names 'y', which is not a feature column") {
            _ = try Self.load("a,y\n1,x\n2,z\n", options: options)
        }
        options.categorical = ["a"]
        options.numeric = ["a"]
        #expect(throws: GlassboxError.invalidArgument("column 'a' is declared both categorical and numeric")) {
            _ = try Self.load("a,y\n1,x\n2,z\n", options: options)
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
        #expect(message == "\(bad.path): row 3, column 'income': 'lots' is not a number (the column is numeric: 1 of its 2 filled cells are numbers)")
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
