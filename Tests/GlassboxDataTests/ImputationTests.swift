import Foundation
import Testing
import GlassboxData
import GlassboxNN

@Suite struct ImputationTests {
    static func load(_ text: String, _ strategy: ImputationStrategy, options: CSVDatasetOptions = .init()) throws -> Dataset {
        var options = options
        options.imputation = strategy
        return try Dataset.parseCSV(Data(text.utf8), path: "d.csv", target: "y", options: options)
    }

    /// Column a: 1, 2, 2, 10 observed (mean 3.75, median 2, mode 2); column b: 4, 1, 3 (mean 8/3,
    /// median 3, mode 1: all tie, the smallest wins);
    /// column c (categorical): red, blue, red, blue, green → mode blue (ties go to the first
    /// category in sorted order).
    static let table = """
        a,b,c,y
        1,4,red,p
        ,1,blue,q
        2,3,,p
        2,NA,red,q
        10,?,blue,p
        ,null,green,q
        """

    @Test(arguments: [
        (ImputationStrategy.mean, Float(3.75), Float(8.0 / 3.0)),
        (.median, 2, 3),
        (.mostFrequent, 2, 1),
    ])
    func fillsNumericColumnsWithTheStatistic(strategy: ImputationStrategy, a: Float, b: Float) throws {
        let ds = try Self.load(Self.table, strategy)
        #expect(ds.featureNames == ["a", "b", "c=blue", "c=green", "c=red"])
        let x = ds.features.scalars
        #expect(x[5] == a && x[25] == a)                 // rows 1 and 5, column a
        #expect(x[16] == b && x[21] == b && x[26] == b)  // rows 3, 4, 5, column b
        #expect(Array(x[12...14]) == [1, 0, 0])          // row 2, column c: blue
        #expect(Array(x[0...4]) == [1, 4, 0, 0, 1])      // observed cells untouched
        #expect(ds.missingCells == [5, 12, 13, 14, 16, 21, 25, 26])
        #expect(ds.imputer?.strategy == strategy)
        #expect(ds.imputer?.fills == [a, b, 1, 0, 0])
        try ds.features.checkFinite("imputed features")
    }

    @Test func missingValuesAreAnErrorByDefault() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        let file = try dir.write("m.csv", Self.table)
        let message = expectBadFile(path: file.path, location: "row 3, column 'a'", problem: "empty cell (missing value)") {
            _ = try Dataset.loadCSV(file, target: "y")
        }
        #expect(message.hasPrefix("\(file.path): row 3, column 'a': "))
        expectBadFile(path: "d.csv", location: "row 2, column 'c'", problem: "'NA' marks a missing value") {
            _ = try Dataset.parseCSV(Data("a,c,y\n1,NA,p\n2,red,q\n".utf8), path: "d.csv", target: "y")
        }
    }

    @Test func columnWithNoValueCannotBeImputed() {
        expectBadFile(path: "d.csv", location: "column 'b'", problem: "every cell is missing") {
            _ = try Self.load("a,b,y\n1,,p\n2,NA,q\n", .mean)
        }
    }

    /// Refitting on chosen rows uses only their statistics, and subsets keep track of their
    /// missing cells so a split part can be imputed on its own.
    @Test func refitOnTrainingRows() throws {
        let ds = try Self.load(Self.table, .mean)
        let imputer = try Imputer.fit(ds, strategy: .mean, rows: [0, 2, 3])
        // Rows 0, 2, 3 observe a = 1, 2, 2; b = 4, 3; c = red, red.
        #expect(imputer.fills == [Float(5) / 3, 3.5, 0, 0, 1])

        let part = ds.subset([4, 1])
        #expect(part.missingCells == [1, 5])
        let refilled = try part.imputed(with: imputer)
        #expect(refilled.features.scalars == [10, 3.5, 1, 0, 0, Float(5) / 3, 1, 1, 0, 0])
        #expect(refilled.imputer == imputer)
        #expect(refilled.missingCells == part.missingCells)

        #expect(throws: GlassboxError.self) { _ = try Imputer.fit(ds, strategy: .mean, rows: []) }
        #expect(throws: GlassboxError.self) { _ = try Imputer.fit(ds, strategy: .none) }
        #expect(throws: GlassboxError.self) { _ = try Imputer.fit(ds, strategy: .mean, rows: [6]) }
        // Row 5 alone has column a missing: nothing to fit a on.
        #expect(throws: GlassboxError.invalidArgument("column 'a' has no observed value in the 1 rows to fit the imputer on")) {
            _ = try Imputer.fit(ds, strategy: .median, rows: [5])
        }
    }

    /// New data loaded with a stored encoding get the stored fills, not their own statistics.
    @Test func encodingAppliesStoredFills() throws {
        let train = try Self.load(Self.table, .median)
        let json = try JSONEncoder().encode(train.encoding)
        var options = CSVDatasetOptions()
        options.encoding = try JSONDecoder().decode(TabularEncoding.self, from: json)
        let new = try Dataset.parseCSV(Data("a,b,c,y\n100,,red,p\n,200,,q\n".utf8), path: "n.csv", target: "y", options: options)
        #expect(new.features.scalars == [100, 3, 0, 0, 1, 2, 200, 1, 0, 0])
        #expect(new.imputer == train.imputer)

        // An encoding without an imputer keeps missing values an error.
        options.encoding?.imputer = nil
        expectBadFile(path: "n.csv", location: "row 2, column 'b'", problem: "missing value") {
            _ = try Dataset.parseCSV(Data("a,b,c,y\n100,,red,p\n1,2,blue,q\n".utf8), path: "n.csv", target: "y", options: options)
        }
    }

    @Test func codableRoundTripAndValidation() throws {
        let imputer = try Imputer(strategy: .mostFrequent, fills: [1, 0, 2.5])
        let json = try JSONEncoder().encode(imputer)
        #expect(String(decoding: json, as: UTF8.self).contains("\"most_frequent\""))
        #expect(try JSONDecoder().decode(Imputer.self, from: json) == imputer)
        #expect(throws: DecodingError.self) {
            _ = try JSONDecoder().decode(Imputer.self, from: Data(#"{"strategy":"mean","fills":[1,"NaN"]}"#.utf8))
        }
        #expect(throws: DecodingError.self) {
            _ = try JSONDecoder().decode(Imputer.self, from: Data(#"{"strategy":"none","fills":[1]}"#.utf8))
        }
        let ds = try Self.load(Self.table, .mean)
        #expect(throws: GlassboxError.self) { _ = try ds.imputed(with: imputer) }
    }
}
