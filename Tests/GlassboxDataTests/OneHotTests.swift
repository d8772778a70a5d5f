import Foundation
import Testing
import GlassboxData
import GlassboxNN

@Suite struct OneHotTests {
    static func load(_ text: String, target: String = "y", options: CSVDatasetOptions = .init()) throws -> Dataset {
        try Dataset.parseCSV(Data(text.utf8), path: "d.csv", target: target, options: options)
    }

    static let table = "size,color,y, weight\n1,red,a,2.5\n2, blue ,b,3\n3,green,a,1\n4,red,b,0.5\n"

    @Test func categoricalColumnsBecomeOneHotGroups() throws {
        let ds = try Self.load(Self.table)
        #expect(ds.featureNames == ["size", "color=blue", "color=green", "color=red", "weight"])
        #expect(ds.features == (try Tensor(shape: [4, 5], scalars: [
            1, 0, 0, 1, 2.5,
            2, 1, 0, 0, 3,
            3, 0, 1, 0, 1,
            4, 0, 0, 1, 0.5,
        ])))
        #expect(ds.featureGroups == [
            FeatureGroup(name: "size", features: [0]),
            FeatureGroup(name: "color", features: [1, 2, 3], categories: ["blue", "green", "red"]),
            FeatureGroup(name: "weight", features: [4]),
        ])
        #expect(ds.missingCells.isEmpty && ds.imputer == nil)
        #expect(try ds.groupTotals([1, 2, 3, 4, 5]) == [1, 9, 5])
        #expect(throws: GlassboxError.self) { _ = try ds.groupTotals([1, 2]) }
        // Subsets keep the grouping.
        #expect(ds.subset([3, 1]).featureGroups == ds.featureGroups)
    }

    /// Declared categorical, integer codes are one-hot encoded in numeric order, not "10" < "2".
    @Test func forcedCategoricalIntegerCodesSortNumerically() throws {
        var options = CSVDatasetOptions()
        options.categorical = ["code"]
        let ds = try Self.load("code,y\n10,a\n2,b\n1,a\n2,b\n", options: options)
        #expect(ds.featureNames == ["code=1", "code=2", "code=10"])
        #expect(ds.features.scalars == [0, 0, 1, 0, 1, 0, 1, 0, 0, 0, 1, 0])
        // Undeclared, the same column is numeric.
        #expect(try Self.load("code,y\n10,a\n2,b\n1,a\n2,b\n").featureNames == ["code"])
    }

    @Test func tooManyCategoriesNamesTheColumnAndRow() throws {
        var options = CSVDatasetOptions()
        options.maxCategories = 3
        let text = "id,x,y\nu1,1,a\nu2,2,b\nu1,3,a\nu3,4,b\nu4,5,a\n"
        expectBadFile(path: "d.csv", location: "row 6, column 'id'", problem: "more than 3 distinct values ('u4' is one more)") {
            _ = try Self.load(text, options: options)
        }
        options.maxCategories = 4
        #expect(try Self.load(text, options: options).featureCount == 5)
    }

    @Test func featureNameClashIsAnError() {
        expectBadFile(path: "d.csv", location: "row 1", problem: "two features would be named 'c=r'") {
            _ = try Self.load("c,c=r,y\nr,1,a\ng,2,b\n")
        }
    }

    @Test func groupsAreValidated() throws {
        let x = Tensor.zeros([1, 3])
        let good = [FeatureGroup(name: "a", features: [0]), FeatureGroup(name: "b", features: [1, 2], categories: ["p", "q"])]
        _ = try Dataset(features: x, labels: [0], featureNames: ["a", "b=p", "b=q"], classNames: ["k"], featureGroups: good)
        let bad: [[FeatureGroup]] = [
            [FeatureGroup(name: "a", features: [0, 1, 2])].map { var g = $0; g.categories = ["p"]; return g },
            [FeatureGroup(name: "a", features: [0]), FeatureGroup(name: "b", features: [2])],
            [FeatureGroup(name: "a", features: [0]), FeatureGroup(name: "b", features: [1])],
            [FeatureGroup(name: "a", features: [1, 0, 2])],
        ]
        for groups in bad {
            #expect(throws: GlassboxError.self) {
                _ = try Dataset(features: x, labels: [0], featureNames: ["a", "b=p", "b=q"], classNames: ["k"], featureGroups: groups)
            }
        }
        // Without groups, every feature is its own numeric group.
        let plain = try Dataset(features: x, labels: [0], featureNames: ["a", "b", "c"], classNames: ["k"])
        #expect(plain.featureGroups == FeatureGroup.singletons(["a", "b", "c"]))
    }

    /// An encoding stored as JSON (e.g. with a model) encodes new data identically: same
    /// features, whatever the column order in the new file.
    @Test func encodingReusedOnNewData() throws {
        let train = try Self.load(Self.table)
        let json = try JSONEncoder().encode(train.encoding)
        var options = CSVDatasetOptions()
        options.encoding = try JSONDecoder().decode(TabularEncoding.self, from: json)
        #expect(options.encoding == train.encoding)

        let new = try Self.load("weight,y,color,size\n7,a,green,9\n8,b,red,10\n", options: options)
        #expect(new.featureNames == train.featureNames)
        #expect(new.featureGroups == train.featureGroups)
        #expect(new.features.scalars == [9, 0, 1, 0, 7, 10, 0, 0, 1, 8])

        // One category and one class only in the new file: still all three one-hot columns, and
        // the labels index the training classes.
        let narrow = try Self.load("size,color,y,weight\n1,red,b,1\n2,red,b,2\n", options: options)
        #expect(narrow.featureCount == 5 && narrow.classNames == ["a", "b"] && narrow.labels == [1, 1])
        expectBadFile(path: "d.csv", location: "row 3, column 'y'", problem: "unknown class 'c' (the encoding knows: a, b)") {
            _ = try Self.load("size,color,y,weight\n1,red,a,1\n2,red,c,2\n", options: options)
        }

        expectBadFile(path: "d.csv", location: "row 3, column 'color'", problem: "unknown category 'purple' (the encoding knows: blue, green, red)") {
            _ = try Self.load("size,color,y,weight\n1,red,a,1\n2,purple,b,2\n", options: options)
        }
        expectBadFile(path: "d.csv", location: "row 1", problem: "no feature column named 'weight', which the encoding needs") {
            _ = try Self.load("size,color,y\n1,red,a\n2,blue,b\n", options: options)
        }
        expectBadFile(path: "d.csv", location: "row 1, column 'extra'", problem: "column is not in the encoding") {
            _ = try Self.load("size,color,y,weight,extra\n1,red,a,1,0\n2,blue,b,2,0\n", options: options)
        }
        expectBadFile(path: "d.csv", location: "row 2, column 'size'", problem: "'big' is not a number (the encoding has a numeric column here)") {
            _ = try Self.load("size,color,y,weight\nbig,red,a,1\n2,blue,b,2\n", options: options)
        }
        options.imputation = .mean
        #expect(throws: GlassboxError.self) { _ = try Self.load(Self.table, options: options) }
    }
}
