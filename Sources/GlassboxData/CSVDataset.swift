import Foundation
import GlassboxNN

/// Options for ``Dataset/loadCSV(_:target:options:)``. The defaults are strict: a missing value
/// is an error; columns are numeric or categorical by the rule in `loadCSV`.
public struct CSVDatasetOptions: Sendable, Equatable {
    /// Size bounds passed to the CSV reader.
    public var limits: CSVLimits = .default
    /// Columns to one-hot encode whatever their cells look like (e.g. integer codes).
    public var categorical: Set<String> = []
    /// Columns that must be numeric: a cell that is not a number is an error.
    public var numeric: Set<String> = []
    /// Most distinct values a categorical column may have; more is an error naming the column,
    /// since such a column is usually an identifier or free text, not a category.
    public var maxCategories: Int = 100
    /// Cells meaning "missing" besides the empty cell (compared after trimming spaces).
    public var missingMarkers: Set<String> = ["NA", "NaN", "nan", "null", "?"]
    /// How to fill missing cells; `.none` makes a missing cell an error. The statistics are
    /// fitted on all rows of the file; to fit them on training rows only, refit with
    /// ``Imputer/fit(_:strategy:rows:)`` and ``Dataset/imputed(with:)`` (the missing cells are
    /// remembered in ``Dataset/missingCells``).
    public var imputation: ImputationStrategy = .none
    /// Encode like an earlier dataset (its ``Dataset/encoding``, e.g. stored with a model): the
    /// same columns, categories, imputation fills and classes. The file must have exactly the
    /// encoding's feature columns (in any order); an unknown category or class is an error. Excludes `categorical`,
    /// `numeric` and `imputation`, which the encoding already decides.
    public var encoding: TabularEncoding?

    /// The strict defaults: no imputation, column kinds inferred, at most 100 categories.
    public init() {}
}

/// How a table's columns become features and labels: the groups (numeric columns and one-hot
/// categorical ones), the imputation fills and the classes. `Codable`, so it can be stored with a
/// model and reused to load new data identically (``CSVDatasetOptions/encoding``).
public struct TabularEncoding: Codable, Sendable, Equatable {
    /// How the columns map to features: one group per numeric column or one-hot categorical column.
    public var featureGroups: [FeatureGroup]
    /// The fills for missing cells (nil: missing cells are errors).
    public var imputer: Imputer?
    /// The classes labels index; new data may hold any subset of them (even one).
    public var classNames: [String]?

    /// An encoding of the given groups, fills and classes.
    public init(featureGroups: [FeatureGroup], imputer: Imputer? = nil, classNames: [String]? = nil) {
        self.featureGroups = featureGroups
        self.imputer = imputer
        self.classNames = classNames
    }

    /// The feature names the groups produce: the column name, or `column=category` per one-hot feature.
    public var featureNames: [String] {
        featureGroups.flatMap { group in group.categories.map { $0.map { "\(group.name)=\($0)" } } ?? [group.name] }
    }
}

extension Dataset {
    /// Loads a classification dataset from a CSV file with a header row.
    ///
    /// The `target` column holds integer or string classes. Integer classes are ordered
    /// numerically and string classes lexicographically, and labels index that order, so
    /// `classNames` is sorted. Every other column is a feature column (cells are trimmed of spaces):
    /// - A cell is missing if it is empty or one of `options.missingMarkers`. Missing cells are an
    ///   error unless `options.imputation` is set.
    /// - A column is **numeric** if listed in `options.numeric`, or if it is not listed in
    ///   `options.categorical` and at least half of its non-missing cells are numbers. Then every
    ///   non-missing cell must be a finite number within Float range: a column of numbers with a few
    ///   stray words is a data error to fix, not a category, so the first bad cell is reported.
    /// - Otherwise the column is **categorical**: one 0/1 feature per distinct value, named
    ///   `column=value`, in sorted order (numeric order if every value is an integer), and at most
    ///   `options.maxCategories` values. ``Dataset/featureGroups`` records which features each
    ///   column became.
    ///
    /// Features keep the columns' order. Errors name the file, the row (1-based, the header is
    /// row 1) and the column; with several bad cells, the first in reading order is reported.
    /// Cost: one pass over the cells per column (two for categorical columns).
    ///
    /// - Throws: ``GlassboxError/badFile(path:location:problem:)`` for an empty file, a header
    ///   with no data rows, duplicate or empty column names, a missing target column, a ragged
    ///   row, a missing cell without imputation, a non-numeric or non-finite cell in a numeric
    ///   column, too many categories, a missing class, fewer than two classes, an option naming an
    ///   unknown column, or malformed CSV.
    public static func loadCSV(_ url: URL, target: String, options: CSVDatasetOptions = .init()) throws -> Dataset {
        try fromCSV(CSV.read(from: url, limits: options.limits), path: url.path, target: target, options: options)
    }

    /// Parses CSV bytes as ``loadCSV(_:target:options:)`` does; `path` is used in error messages only.
    public static func parseCSV(_ data: Data, path: String, target: String, options: CSVDatasetOptions = .init()) throws -> Dataset {
        try fromCSV(CSV.parse(data, path: path, limits: options.limits), path: path, target: target, options: options)
    }

    static func fromCSV(_ records: [CSVRecord], path: String, target: String, options: CSVDatasetOptions) throws -> Dataset {
        func bad(_ location: String, _ problem: String) -> GlassboxError {
            .badFile(path: path, location: location, problem: problem)
        }
        guard let headerRecord = records.first else { throw bad("row 1", "file is empty: expected a header row and data rows") }
        let header = headerRecord.fields.map(trimmed)
        var seen: [String: Int] = [:]
        for (j, name) in header.enumerated() {
            guard !name.isEmpty else { throw bad("\(headerRecord.location), column \(j + 1)", "empty column name") }
            if let earlier = seen[name] {
                throw bad("\(headerRecord.location), column '\(name)'", "duplicate column name (columns \(earlier + 1) and \(j + 1))")
            }
            seen[name] = j
        }
        func columnList(_ names: [String]) -> String {
            names.count <= 20 ? names.joined(separator: ", ") : names.prefix(20).joined(separator: ", ") + ", …"
        }
        guard let targetIndex = seen[target] else {
            throw bad(headerRecord.location, "no column named '\(target)' for the target (columns: \(columnList(header)))")
        }
        let rows = Array(records.dropFirst())
        guard !rows.isEmpty else { throw bad(headerRecord.location, "the file has a header but no data rows") }
        let featureColumns = header.indices.filter { $0 != targetIndex }
        guard !featureColumns.isEmpty else { throw bad(headerRecord.location, "no feature columns besides the target '\(target)'") }
        let featureNamesInFile = featureColumns.map { header[$0] }

        guard options.maxCategories >= 1 else {
            throw GlassboxError.invalidArgument("maxCategories must be at least 1, got \(options.maxCategories)")
        }
        if let both = options.categorical.intersection(options.numeric).sorted().first {
            throw GlassboxError.invalidArgument("column '\(both)' is declared both categorical and numeric")
        }
        for (option, names) in [("categorical", options.categorical), ("numeric", options.numeric)] {
            if let unknown = names.sorted().first(where: { seen[$0] == nil || $0 == target }) {
                throw bad(headerRecord.location, "the \(option) option names '\(unknown)', which is not a feature column "
                              + "(feature columns: \(columnList(featureNamesInFile)))")
            }
        }

        // What each feature column becomes, in output order.
        var plans: [ColumnPlan] = []
        if let encoding = options.encoding {
            guard options.categorical.isEmpty, options.numeric.isEmpty, options.imputation == .none else {
                throw GlassboxError.invalidArgument("an encoding already decides column types and imputation: "
                                                        + "leave categorical, numeric and imputation unset")
            }
            let width = encoding.featureGroups.reduce(0) { $0 + $1.features.count }
            try FeatureGroup.validate(encoding.featureGroups, featureCount: width)
            if let imputer = encoding.imputer, imputer.fills.count != width {
                throw GlassboxError.invalidArgument("the encoding's imputer has \(imputer.fills.count) fills for \(width) features")
            }
            let expected = Set(encoding.featureGroups.map(\.name))
            if let absent = encoding.featureGroups.first(where: { seen[$0.name] == nil || $0.name == target }) {
                throw bad(headerRecord.location, "no feature column named '\(absent.name)', which the encoding needs")
            }
            if let extra = featureNamesInFile.first(where: { !expected.contains($0) }) {
                throw bad("\(headerRecord.location), column '\(extra)'", "column is not in the encoding (it has: "
                              + "\(columnList(encoding.featureGroups.map(\.name))))")
            }
            plans = encoding.featureGroups.map { ColumnPlan(column: seen[$0.name] ?? 0, name: $0.name, kind: .fixed($0.categories)) }
        } else {
            plans = featureColumns.map { j in
                let name = header[j]
                return ColumnPlan(column: j, name: name,
                                  kind: options.categorical.contains(name) ? .categorical : options.numeric.contains(name) ? .numeric : .auto)
            }
        }

        var problems = Problems()
        let imputing = options.encoding.map { $0.imputer != nil } ?? (options.imputation != .none)
        let reader = CellReader(markers: options.missingMarkers)
        var columns: [EncodedColumn] = []
        columns.reserveCapacity(plans.count)
        for plan in plans {
            columns.append(encode(plan, rows: rows, reader: reader, imputing: imputing,
                                  maxCategories: options.maxCategories, problems: &problems, bad: bad))
        }
        let targetCells = readTarget(rows, column: targetIndex, name: target, reader: reader, problems: &problems, bad: bad)
        if let first = problems.first { throw first }

        var groups: [FeatureGroup] = []
        var width = 0
        for (plan, column) in zip(plans, columns) {
            let count = column.categories?.count ?? 1
            groups.append(FeatureGroup(name: plan.name, features: Array(width..<(width + count)), categories: column.categories))
            width += count
        }
        let featureNames = TabularEncoding(featureGroups: groups).featureNames
        var names = Set<String>()
        if let clash = featureNames.first(where: { !names.insert($0).inserted }) {
            throw bad(headerRecord.location, "two features would be named '\(clash)' (a one-hot feature clashes with a column); rename a column")
        }

        let n = rows.count
        let (cells, overflow) = n.multipliedReportingOverflow(by: width)
        guard !overflow, cells <= Int(Int32.max) else {
            throw bad("", "\(n) rows × \(width) features (after one-hot encoding) is more than \(Int32.max) values")
        }
        var scalars = [Float](repeating: 0, count: cells)
        var missingCells: [Int] = []
        scalars.withUnsafeMutableBufferPointer { x in
            for (group, column) in zip(groups, columns) {
                let f = group.features[0]
                switch column.values {
                case .numbers(let values):
                    for i in 0..<n {
                        x[i * width + f] = values[i]
                        if values[i].isNaN { missingCells.append(i * width + f) }
                    }
                case .categories(let codes):
                    for i in 0..<n {
                        if codes[i] >= 0 {
                            x[i * width + f + Int(codes[i])] = 1
                        } else {
                            for k in 0..<group.features.count {
                                x[i * width + f + k] = .nan
                                missingCells.append(i * width + f + k)
                            }
                        }
                    }
                }
            }
        }
        missingCells.sort()

        let (labels, classNames) = try encodeClasses(targetCells, rows: rows, name: target,
                                                     known: options.encoding?.classNames, bad: bad)
        var dataset = Dataset(unchecked: Tensor(uncheckedShape: [n, width], scalars: scalars), labels: labels,
                              featureNames: featureNames, classNames: classNames, featureGroups: groups,
                              missingCells: missingCells)
        if !missingCells.isEmpty {
            let imputer = try options.encoding?.imputer ?? Imputer.fit(dataset, strategy: options.imputation)
            dataset = try dataset.imputed(with: imputer)
        }
        return dataset
    }

    private struct ColumnPlan {
        enum Kind {
            case auto, numeric, categorical
            /// From an encoding: numeric if `nil`, else exactly these categories.
            case fixed([String]?)
        }
        var column: Int
        var name: String
        var kind: Kind
    }

    private struct EncodedColumn {
        enum Values {
            /// One value per row, NaN where missing.
            case numbers([Float])
            /// One category index per row, -1 where missing.
            case categories([Int32])
        }
        var values: Values
        /// `nil` for a numeric column.
        var categories: [String]?
    }

    /// The first problem in reading order (row, then column) among those reported.
    private struct Problems {
        private var best: (row: Int, column: Int, error: GlassboxError)?

        mutating func report(row: Int, column: Int, _ error: GlassboxError) {
            if let best, (best.row, best.column) <= (row, column) { return }
            best = (row, column, error)
        }

        var first: GlassboxError? { best?.error }
    }

    /// Classifies trimmed cells as missing, numbers or text.
    private struct CellReader {
        let markers: Set<String>
        /// When no marker parses as a number, a finite number needs no marker lookup.
        let markersAreText: Bool

        init(markers: Set<String>) {
            self.markers = markers
            markersAreText = markers.allSatisfy { Double($0) == nil }
        }

        enum Cell {
            case missing
            case number(Double)
            case text
        }

        func read(_ cell: String) -> Cell {
            if cell.isEmpty { return .missing }
            let number = Double(cell)
            if let number, number.isFinite, markersAreText { return .number(number) }
            if markers.contains(cell) { return .missing }
            return number.map { .number($0) } ?? .text
        }
    }

    private static func encode(_ plan: ColumnPlan, rows: [CSVRecord], reader: CellReader, imputing: Bool, maxCategories: Int,
                               problems: inout Problems, bad: (String, String) -> GlassboxError) -> EncodedColumn {
        let j = plan.column
        func at(_ record: CSVRecord) -> String { "\(record.location), column '\(plan.name)'" }
        func missing(_ record: CSVRecord, _ cell: String) {
            guard !imputing else { return }
            let what = cell.isEmpty ? "empty cell (missing value)" : "'\(cell)' marks a missing value"
            problems.report(row: record.row, column: j, bad(at(record), what + "; enable imputation to fill missing values"))
        }
        func allMissing(_ observed: Int) {
            if observed == 0, imputing {
                problems.report(row: rows[0].row, column: j, bad("column '\(plan.name)'", "every cell is missing: nothing to impute from"))
            }
        }

        let known: [String]?
        var categorical: Bool
        switch plan.kind {
        case .categorical: (known, categorical) = (nil, true)
        case .fixed(let categories): (known, categorical) = (categories, categories != nil)
        case .numeric, .auto: (known, categorical) = (nil, false)
        }

        if !categorical {
            // Pass 1: what each cell is, which decides an `auto` column.
            var numbers = [Double](repeating: .nan, count: rows.count)
            var present = [Bool](repeating: false, count: rows.count)
            var filled = 0, numeric = 0
            for (i, record) in rows.enumerated() {
                let cell = trimmed(record.fields[j])
                switch reader.read(cell) {
                case .missing: missing(record, cell)
                case .number(let value):
                    numbers[i] = value
                    present[i] = true
                    filled += 1
                    numeric += 1
                case .text:
                    present[i] = true
                    filled += 1
                }
            }
            if case .auto = plan.kind { categorical = 2 * numeric < filled }
            if !categorical {
                // Pass 2: numbers to Float, reporting the first cell that is not a usable number.
                var values = [Float](repeating: .nan, count: rows.count)
                let why: String
                switch plan.kind {
                case .auto: why = " (the column is numeric: \(numeric) of its \(filled) filled cells are numbers)"
                case .fixed: why = " (the encoding has a numeric column here)"
                default: why = ""
                }
                for (i, record) in rows.enumerated() where present[i] {
                    let single = Float(numbers[i])
                    if single.isFinite {
                        values[i] = single
                        continue
                    }
                    let cell = trimmed(record.fields[j])
                    let problem = numbers[i].isNaN && Double(cell) == nil ? "'\(cell)' is not a number" + why
                        : numbers[i].isFinite ? "'\(cell)' is outside the range of Float" : "'\(cell)' is not a finite number"
                    problems.report(row: record.row, column: j, bad(at(record), problem))
                    break
                }
                allMissing(filled)
                return EncodedColumn(values: .numbers(values), categories: nil)
            }
        }

        // Categorical: cells to indices; the categories are sorted once all are seen.
        var codes = [Int32](repeating: -1, count: rows.count)
        var index: [String: Int32] = [:]
        if let known { for (k, name) in known.enumerated() { index[name] = Int32(k) } }
        var observed = 0
        for (i, record) in rows.enumerated() {
            let cell = trimmed(record.fields[j])
            if case .missing = reader.read(cell) {
                missing(record, cell)
                continue
            }
            observed += 1
            if let code = index[cell] {
                codes[i] = code
            } else if let known {
                let list = known.count <= 20 ? known.joined(separator: ", ") : known.prefix(20).joined(separator: ", ") + ", …"
                problems.report(row: record.row, column: j, bad(at(record), "unknown category '\(cell)' (the encoding knows: \(list))"))
                break
            } else if index.count == maxCategories {
                problems.report(row: record.row, column: j, bad(at(record),
                    "categorical column has more than \(maxCategories) distinct values ('\(cell)' is one more): "
                        + "it looks like an identifier or free text; drop the column from the file"))
                break
            } else {
                codes[i] = Int32(index.count)
                index[cell] = Int32(index.count)
            }
        }
        allMissing(observed)
        if let known { return EncodedColumn(values: .categories(codes), categories: known) }
        let categories = sortedCategories(Array(index.keys))
        var rank = [Int32](repeating: 0, count: categories.count)
        for (k, name) in categories.enumerated() { rank[Int(index[name] ?? 0)] = Int32(k) }
        for i in codes.indices where codes[i] >= 0 { codes[i] = rank[Int(codes[i])] }
        return EncodedColumn(values: .categories(codes), categories: categories)
    }

    /// Numeric order if every name is an integer, else lexicographic.
    private static func sortedCategories(_ names: [String]) -> [String] {
        if names.allSatisfy({ Int($0) != nil }) {
            return names.sorted { Int($0) ?? 0 < Int($1) ?? 0 }
        }
        return names.sorted()
    }

    private static func readTarget(_ rows: [CSVRecord], column: Int, name: String, reader: CellReader,
                                   problems: inout Problems, bad: (String, String) -> GlassboxError) -> [String] {
        var cells: [String] = []
        cells.reserveCapacity(rows.count)
        for record in rows {
            let cell = trimmed(record.fields[column])
            if cell.isEmpty || reader.markers.contains(cell) {
                let what = cell.isEmpty ? "empty cell (missing class)" : "'\(cell)' marks a missing class"
                problems.report(row: record.row, column: column, bad("\(record.location), column '\(name)'", what))
            }
            cells.append(cell)
        }
        return cells
    }

    /// Maps the target cells to class indices: the `known` classes' if given, else integer
    /// classes in numeric order if every cell is an integer, otherwise string classes in
    /// lexicographic order.
    private static func encodeClasses(_ cells: [String], rows: [CSVRecord], name: String, known: [String]?,
                                      bad: (String, String) -> GlassboxError) throws -> ([Int], [String]) {
        if let known {
            let index = Dictionary(known.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
            var labels: [Int] = []
            labels.reserveCapacity(cells.count)
            for (cell, record) in zip(cells, rows) {
                guard let label = index[cell] else {
                    let list = known.count <= 20 ? known.joined(separator: ", ") : known.prefix(20).joined(separator: ", ") + ", …"
                    throw bad("\(record.location), column '\(name)'", "unknown class '\(cell)' (the encoding knows: \(list))")
                }
                labels.append(label)
            }
            return (labels, known)
        }
        let integers = cells.compactMap { Int($0) }
        let names: [String]
        let keys: [String]
        if integers.count == cells.count {
            let distinct = Array(Set(integers)).sorted()
            names = distinct.map(String.init)
            keys = integers.map(String.init)
        } else {
            names = Array(Set(cells)).sorted()
            keys = cells
        }
        guard names.count >= 2 else {
            throw bad("column '\(name)'", "only one class ('\(names.first ?? "")') in \(cells.count) rows; classification needs at least two")
        }
        let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        return (keys.map { index[$0] ?? 0 }, names)
    }

    /// `s` without surrounding spaces; skips Foundation when the ends are plain ASCII.
    private static func trimmed(_ s: String) -> String {
        let utf8 = s.utf8
        guard let first = utf8.first, let last = utf8.last else { return s }
        func plain(_ byte: UInt8) -> Bool { byte < 0x80 && byte != 0x20 && byte != 0x09 }
        if plain(first) && plain(last) { return s }
        return s.trimmingCharacters(in: .whitespaces)
    }
}
