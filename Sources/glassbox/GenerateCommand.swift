import ArgumentParser
import Foundation
import Glassbox

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a synthetic classification CSV with known feature roles (scikit-learn's make_classification).",
        discussion: """
            Informative features are Gaussian clusters on hypercube vertices, redundant ones random linear \
            combinations of them, repeated ones copies, the rest N(0, 1) noise; rows and columns are shuffled. \
            Writes FILE.csv (features x0…, class in column `target`) and FILE.roles.json with every feature's role.

            Example: glassbox generate --features 16 --informative 5 --samples 2000 --out data/synthetic.csv
            """
    )

    @Option(help: "Number of features in total.") var features: Int
    @Option(help: "Informative features.") var informative: Int
    @Option(help: "Redundant features (linear combinations of the informative ones).") var redundant = 0
    @Option(help: "Repeated features (copies of informative or redundant ones).") var repeated = 0
    @Option(help: "Number of classes.") var classes = 2
    @Option(help: "Gaussian clusters per class.") var clustersPerClass = 2
    @Option(help: "Number of rows.") var samples = 1000
    @Option(help: "Class separation: half the hypercube's side.") var classSep = 1.0
    @Option(help: "Fraction of rows whose class is redrawn at random.") var flipY = 0.01
    @Option(help: "Class proportions, comma-separated (one per class, or one fewer).") var weights: String?
    @Option(help: "Seed: the same seed and options give the same files.") var seed: UInt64 = 42
    @Option(help: "CSV file to write; the roles go to the same name with .roles.json.") var out: String
    @Flag(help: "Print one JSON object instead of text.") var json = false
    @Flag(help: "No progress output (this command finishes at once and prints none; accepted as every command does).")
    var quiet = false

    struct Summary: Codable {
        var csv: String, roles: String
        var rows: Int, features: Int, classes: Int, class_counts: [Int]
        var informative: Int, redundant: Int, repeated: Int, noise: Int
        var informative_features: [String]
        var flipped_rows: Int
        var seed: UInt64
    }

    func parameters() throws -> SyntheticClassification.Parameters {
        var classWeights: [Double]?
        if let weights {
            let parts = weights.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let values = parts.compactMap(Double.init)
            guard !parts.isEmpty, values.count == parts.count else {
                throw ValidationError("--weights must be comma-separated numbers, got '\(weights)'")
            }
            classWeights = values
        }
        return SyntheticClassification.Parameters(
            samples: samples, features: features, informative: informative, redundant: redundant, repeated: repeated,
            classes: classes, clustersPerClass: clustersPerClass, weights: classWeights, flipY: flipY, classSep: classSep)
    }

    func validate() throws {
        guard out.hasSuffix(".csv") else { throw ValidationError("--out must name a .csv file, got '\(out)'") }
    }

    func run() throws {
        try reportingErrors {
            let csvURL = URL(fileURLWithPath: out)
            let rolesURL = URL(fileURLWithPath: String(out.dropLast(".csv".count)) + ".roles.json")
            try OutputGuard.check(outputs: [("--out", csvURL.path), ("the roles file", rolesURL.path)], inputs: [])
            try parameters().validate()
            let result = try SyntheticClassification.generate(parameters(), seed: seed)
            // Both or neither: a data file must never sit beside another run's roles.
            try AtomicFile.write([(try result.dataset.csvData(target: "target"), csvURL), (try result.roles.jsonData(), rolesURL)])

            let counts = result.roles.counts
            let summary = Summary(
                csv: csvURL.path, roles: rolesURL.path, rows: result.dataset.count, features: result.dataset.featureCount,
                classes: result.dataset.numClasses, class_counts: result.dataset.classCounts,
                informative: counts[.informative] ?? 0, redundant: counts[.redundant] ?? 0,
                repeated: counts[.repeated] ?? 0, noise: counts[.noise] ?? 0,
                informative_features: result.roles.indices(of: .informative).map { result.dataset.featureNames[$0] },
                flipped_rows: result.flippedRows.count, seed: seed)
            if json {
                try printJSON(summary)
            } else {
                print("wrote \(summary.csv): \(summary.rows) rows × \(summary.features) features, \(summary.classes) classes "
                          + "(\(summary.class_counts.map(String.init).joined(separator: "/")) rows), seed \(seed)")
                print("roles: \(summary.informative) informative, \(summary.redundant) redundant, \(summary.repeated) repeated, "
                          + "\(summary.noise) noise → \(summary.roles)")
                print("informative: \(summary.informative_features.joined(separator: ", "))")
                print("labels redrawn at random: \(summary.flipped_rows) rows (flip-y \(flipY))")
            }
        }
    }
}
