import Foundation
import Testing
import GlassboxData
import GlassboxNN

@Suite struct SyntheticClassificationTests {
    typealias Parameters = SyntheticClassification.Parameters

    static func column(_ ds: Dataset, _ j: Int) -> [Double] {
        (0..<ds.count).map { Double(ds.features.scalars[$0 * ds.featureCount + j]) }
    }

    static func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(v.count) }

    static func variance(_ v: [Double]) -> Double {
        let m = mean(v)
        return v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(v.count)
    }

    static func correlation(_ a: [Double], _ b: [Double]) -> Double {
        let (ma, mb) = (mean(a), mean(b))
        let cov = zip(a, b).map { ($0 - ma) * ($1 - mb) }.reduce(0, +) / Double(a.count)
        return cov / (variance(a) * variance(b)).squareRoot()
    }

    /// ‖y − Xβ‖ / ‖y‖ for the least-squares β (normal equations solved by Gaussian elimination
    /// with partial pivoting, in Double): an oracle independent of the recorded coefficients.
    static func relativeResidual(_ y: [Double], on columns: [[Double]]) -> Double {
        let k = columns.count
        var m = [[Double]](repeating: [Double](repeating: 0, count: k + 1), count: k)
        for a in 0..<k {
            for b in 0..<k { m[a][b] = zip(columns[a], columns[b]).map(*).reduce(0, +) }
            m[a][k] = zip(columns[a], y).map(*).reduce(0, +)
        }
        for p in 0..<k {
            let pivot = (p..<k).max { abs(m[$0][p]) < abs(m[$1][p]) } ?? p
            m.swapAt(p, pivot)
            for r in 0..<k where r != p {
                let f = m[r][p] / m[p][p]
                for c in p...k { m[r][c] -= f * m[p][c] }
            }
        }
        let beta = (0..<k).map { m[$0][k] / m[$0][$0] }
        let residual = y.indices.map { i in y[i] - (0..<k).map { beta[$0] * columns[$0][i] }.reduce(0, +) }
        return (residual.map { $0 * $0 }.reduce(0, +) / y.map { $0 * $0 }.reduce(0, +)).squareRoot()
    }

    @Test func shapesNamesAndRoleCounts() throws {
        let p = Parameters(samples: 300, features: 12, informative: 4, redundant: 3, repeated: 2, classes: 3)
        let r = try SyntheticClassification.generate(p, seed: 1)
        #expect(r.dataset.features.shape == [300, 12])
        #expect(r.dataset.featureNames == (0..<12).map { "x\($0)" })
        #expect(r.dataset.classNames == ["0", "1", "2"])
        #expect(r.roles.features.map(\.name) == r.dataset.featureNames)
        #expect(r.roles.counts == [.informative: 4, .redundant: 3, .repeated: 2, .noise: 3])
        #expect(p.noise == 3)
        #expect(r.roles.seed == 1 && r.roles.parameters == p)
        try r.roles.validate()
        try r.roles.validate(for: r.dataset)
        try r.dataset.features.checkFinite("synthetic features")
        #expect(r.clusters.count == 300 && Set(r.clusters) == Set(0..<6))
    }

    @Test func sameSeedSameDataOtherSeedOtherData() throws {
        let p = Parameters(samples: 200, features: 8, informative: 3, redundant: 1, repeated: 1, flipY: 0.1)
        let a = try SyntheticClassification.generate(p, seed: 7)
        let b = try SyntheticClassification.generate(p, seed: 7)
        #expect(a.dataset == b.dataset && a.roles == b.roles && a.flippedRows == b.flippedRows && a.clusters == b.clusters)
        let c = try SyntheticClassification.generate(p, seed: 8)
        #expect(c.dataset.features != a.dataset.features)
    }

    /// Without label noise, class sizes follow the weights exactly as sklearn deals them.
    @Test(arguments: [
        (nil, [500, 500]),
        ([0.8, 0.2], [800, 200]),
        ([0.8], [801, 199]),  // 1 − 0.8 is 0.19999…: ⌊99.99…⌋ = 99 per cluster, the 2 left go to clusters 0 and 1
    ] as [([Double]?, [Int])])
    func classBalance(weights: [Double]?, counts: [Int]) throws {
        let p = Parameters(samples: 1000, features: 4, informative: 2, redundant: 0, weights: weights, flipY: 0)
        let r = try SyntheticClassification.generate(p, seed: 3)
        #expect(r.dataset.classCounts == counts)
        #expect(r.flippedRows.isEmpty)
        #expect(zip(r.dataset.labels, r.clusters).allSatisfy { $0 == $1 % 2 })
    }

    /// Each cluster's informative features average to its hypercube vertex (±classSep per
    /// coordinate), the vertices are distinct, and informative features separate the classes
    /// while noise features do not.
    @Test func informativeFeaturesSitOnHypercubeVertices() throws {
        let sep = 1.5
        let p = Parameters(samples: 8000, features: 7, informative: 3, redundant: 0, classes: 2, clustersPerClass: 2,
                           flipY: 0, classSep: sep)
        let r = try SyntheticClassification.generate(p, seed: 11)
        let informative = r.roles.indices(of: .informative)
        var vertices = Set<[Int]>()
        for q in 0..<4 {
            let rows = r.clusters.indices.filter { r.clusters[$0] == q }
            var vertex: [Int] = []
            for f in informative {
                let m = Self.mean(rows.map { Double(r.dataset.features.scalars[$0 * 7 + f]) })
                #expect(abs(abs(m) - sep) < 0.12, "cluster \(q) feature x\(f) mean \(m), expected ±\(sep)")
                vertex.append(m > 0 ? 1 : -1)
            }
            vertices.insert(vertex)
        }
        #expect(vertices.count == 4)

        // Nearest class mean on the informative features beats chance clearly; on noise it cannot.
        func nearestMeanAccuracy(_ features: [Int]) -> Double {
            let ds = r.dataset
            var means = [[Double]](repeating: [Double](repeating: 0, count: features.count), count: 4)
            var sizes = [Double](repeating: 0, count: 4)
            for i in 0..<ds.count {
                sizes[r.clusters[i]] += 1
                for (a, f) in features.enumerated() { means[r.clusters[i]][a] += Double(ds.features.scalars[i * 7 + f]) }
            }
            for q in 0..<4 { for a in features.indices { means[q][a] /= sizes[q] } }
            var correct = 0
            for i in 0..<ds.count {
                let nearest = (0..<4).min { q1, q2 in
                    func d(_ q: Int) -> Double {
                        features.enumerated().map { a, f in pow(Double(ds.features.scalars[i * 7 + f]) - means[q][a], 2) }.reduce(0, +)
                    }
                    return d(q1) < d(q2)
                } ?? 0
                if nearest % 2 == ds.labels[i] { correct += 1 }
            }
            return Double(correct) / Double(ds.count)
        }
        #expect(nearestMeanAccuracy(informative) > 0.75)
        #expect(abs(nearestMeanAccuracy(r.roles.indices(of: .noise)) - 0.5) < 0.05)
    }

    /// Redundant features are exact linear combinations of the informative ones (least-squares
    /// residual at Float rounding, and the recorded coefficients reproduce them); a noise feature
    /// is not (the oracle can fail).
    @Test func redundantFeaturesAreLinearCombinations() throws {
        let p = Parameters(samples: 500, features: 10, informative: 4, redundant: 3, repeated: 0)
        let r = try SyntheticClassification.generate(p, seed: 5)
        let ds = r.dataset
        let informative = r.roles.indices(of: .informative).map { Self.column(ds, $0) }
        for j in r.roles.indices(of: .redundant) {
            let y = Self.column(ds, j)
            #expect(Self.relativeResidual(y, on: informative) < 1e-6)
            let feature = r.roles.features[j]
            let names = try #require(feature.sources)
            let sources = names.map { name in Self.column(ds, ds.featureNames.firstIndex(of: name) ?? -1) }
            let coefficients = try #require(feature.coefficients)
            #expect(Set(names) == Set(r.roles.indices(of: .informative).map { "x\($0)" }))
            let rebuilt = y.indices.map { i in zip(coefficients, sources).map { $0 * $1[i] }.reduce(0, +) }
            let error = zip(y, rebuilt).map { abs($0 - $1) }.max() ?? 0
            #expect(error < 1e-5 * (y.map(abs).max() ?? 1))
        }
        let noise = try #require(r.roles.indices(of: .noise).first)
        #expect(Self.relativeResidual(Self.column(ds, noise), on: informative) > 0.9)
    }

    @Test func repeatedFeaturesCopyTheirSource() throws {
        let p = Parameters(samples: 200, features: 12, informative: 3, redundant: 2, repeated: 4)
        let r = try SyntheticClassification.generate(p, seed: 9)
        for j in r.roles.indices(of: .repeated) {
            let feature = r.roles.features[j]
            let copyOf = try #require(feature.copyOf)
            let source = try #require(r.dataset.featureNames.firstIndex(of: copyOf))
            #expect(source != j && r.roles.features[source].role != .noise && r.roles.features[source].role != .repeated)
            let identical = Self.column(r.dataset, j) == Self.column(r.dataset, source)
            #expect(identical, "x\(j) should equal its source \(copyOf)")
            let expected = r.roles.features[source].role == .informative ? [copyOf] : r.roles.features[source].sources
            #expect(feature.sources == expected)
        }
    }

    @Test func noiseIsStandardNormalAndUnrelatedToLabels() throws {
        let p = Parameters(samples: 5000, features: 8, informative: 2, redundant: 0, flipY: 0)
        let r = try SyntheticClassification.generate(p, seed: 13)
        let labels = r.dataset.labels.map(Double.init)
        let informative = r.roles.indices(of: .informative).map { Self.column(r.dataset, $0) }
        #expect(r.roles.indices(of: .noise).count == 6)
        for j in r.roles.indices(of: .noise) {
            let x = Self.column(r.dataset, j)
            #expect(abs(Self.mean(x)) < 0.06 && abs(Self.variance(x) - 1) < 0.08)
            let fourth = x.map { pow($0 - Self.mean(x), 4) }.reduce(0, +) / Double(x.count)
            #expect(abs(fourth / pow(Self.variance(x), 2) - 3) < 0.3)  // normal kurtosis
            #expect(abs(Self.correlation(x, labels)) < 0.05)
            for column in informative { #expect(abs(Self.correlation(x, column)) < 0.05) }
        }
    }

    /// About flipY of the rows are redrawn; the others keep their cluster's class, and a redrawn
    /// class differs from the original with probability 1 − 1/C.
    @Test func labelNoiseFraction() throws {
        let p = Parameters(samples: 6000, features: 5, informative: 3, redundant: 0, classes: 3, flipY: 0.2)
        let r = try SyntheticClassification.generate(p, seed: 17)
        let fraction = Double(r.flippedRows.count) / 6000
        #expect(abs(fraction - 0.2) < 0.02)
        let flipped = Set(r.flippedRows)
        #expect(r.flippedRows == r.flippedRows.sorted())
        for i in 0..<6000 where !flipped.contains(i) { #expect(r.dataset.labels[i] == r.clusters[i] % 3) }
        let changed = r.flippedRows.filter { r.dataset.labels[$0] != r.clusters[$0] % 3 }.count
        #expect(abs(Double(changed) / Double(r.flippedRows.count) - 2.0 / 3) < 0.05)
    }

    /// Shuffling permutes rows and columns of the unshuffled data (the stream is the same up to
    /// the permutations), and the roles follow the columns.
    @Test func rolesFollowTheColumnShuffle() throws {
        var p = Parameters(samples: 100, features: 9, informative: 3, redundant: 2, repeated: 0, shuffle: false)
        let plain = try SyntheticClassification.generate(p, seed: 21)
        #expect(plain.roles.roles == [.informative, .informative, .informative, .redundant, .redundant, .noise, .noise, .noise, .noise])
        p.shuffle = true
        let shuffled = try SyntheticClassification.generate(p, seed: 21)
        #expect(shuffled.roles.roles != plain.roles.roles)
        let fingerprints = (0..<9).map { Self.column(plain.dataset, $0).sorted() }
        for j in 0..<9 {
            let source = try #require(fingerprints.firstIndex(of: Self.column(shuffled.dataset, j).sorted()))
            #expect(shuffled.roles.features[j].role == plain.roles.features[source].role)
            if let coefficients = shuffled.roles.features[j].coefficients {
                #expect(coefficients == plain.roles.features[source].coefficients)
                let renamed = try #require(plain.roles.features[source].sources).map { name -> String in
                    let k = plain.dataset.featureNames.firstIndex(of: name) ?? -1
                    return "x\(fingerprints.indices.first { j2 in Self.column(shuffled.dataset, j2).sorted() == fingerprints[k] } ?? -1)"
                }
                #expect(shuffled.roles.features[j].sources == renamed)
            }
        }
        #expect(shuffled.dataset.labels.sorted() == plain.dataset.labels.sorted())
    }

    @Test func shiftAndScale() throws {
        let p = Parameters(samples: 4000, features: 4, informative: 2, redundant: 0, shift: 3, scale: 2)
        let r = try SyntheticClassification.generate(p, seed: 2)
        for j in r.roles.indices(of: .noise) {
            let x = Self.column(r.dataset, j)
            #expect(abs(Self.mean(x) - 6) < 0.15 && abs(Self.variance(x).squareRoot() - 2) < 0.1)
        }
        let random = try SyntheticClassification.generate(Parameters(samples: 2000, features: 6, informative: 2, redundant: 0,
                                                                     hypercube: false, shift: nil, scale: nil), seed: 2)
        // Random scales in [1, 101): the noise features' spreads lie there and differ.
        let spreads = random.roles.indices(of: .noise).map { Self.variance(Self.column(random.dataset, $0)).squareRoot() }
        #expect(spreads.count == 4 && spreads.allSatisfy { $0 > 0.9 && $0 < 110 } && Set(spreads.map { Int($0) }).count > 1)
    }

    @Test(arguments: [
        (Parameters(features: 5, informative: 3, redundant: 2, repeated: 1), "exceeds features"),
        (Parameters(features: 5, informative: 2, classes: 3, clustersPerClass: 2), "at most 2^informative"),
        (Parameters(informative: 0), "informative must be at least 1"),
        (Parameters(classes: 1), "classes must be at least 2"),
        (Parameters(samples: 0), "samples must be at least 1"),
        (Parameters(weights: [0.3, 0.3, 0.4]), "one per class"),
        (Parameters(weights: [0.7, 0.6]), "sum to at most 1"),
        (Parameters(flipY: 1.5), "flipY"),
        (Parameters(classSep: 0), "classSep"),
        (Parameters(scale: -1), "scale"),
        (Parameters(samples: 1 << 30, features: 4), "exceeds 2^31"),
    ])
    func invalidParameters(p: Parameters, message: String) {
        do {
            _ = try SyntheticClassification.generate(p, seed: 0)
            Issue.record("expected an error mentioning \(message)")
        } catch let GlassboxError.invalidArgument(text) {
            #expect(text.contains(message), "\(text)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func largeInformativeDimension() throws {
        let r = try SyntheticClassification.generate(Parameters(samples: 64, features: 70, informative: 70, redundant: 0), seed: 4)
        #expect(r.roles.counts == [.informative: 70])
    }

    @Test func rolesSidecarRoundTrip() throws {
        let p = Parameters(samples: 50, features: 6, informative: 2, redundant: 1, repeated: 1, scale: nil)
        let r = try SyntheticClassification.generate(p, seed: 99)
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        let url = dir.file("data.roles.json")
        try r.roles.write(to: url)
        #expect(try FeatureRoles.read(from: url) == r.roles)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        #expect(object["seed"] as? Int == 99)
        let parameters = try #require(object["parameters"] as? [String: Any])
        #expect(parameters["n_informative"] as? Int == 2 && parameters["flip_y"] as? Double == 0.01)
        #expect(parameters["scale"] is NSNull && parameters["shift"] as? Double == 0)
        let features = try #require(object["features"] as? [[String: Any]])
        #expect(features.count == 6 && features.allSatisfy { ($0["name"] as? String)?.hasPrefix("x") == true })

        let minimal = Data(#"{"features": [{"name": "a", "role": "informative"}, {"name": "b", "role": "noise"}]}"#.utf8)
        #expect(try FeatureRoles.decode(minimal, path: "m.json").roles == [.informative, .noise])
        expectBadFile(path: "bad.json", location: "features[1].role", problem: "value useful") {
            _ = try FeatureRoles.decode(Data(#"{"features": [{"name": "a", "role": "informative"}, {"name": "b", "role": "useful"}]}"#.utf8), path: "bad.json")
        }
        expectBadFile(path: "bad.json", problem: "derives from 'zz', which is not a feature") {
            _ = try FeatureRoles.decode(Data(#"{"features": [{"name": "a", "role": "repeated", "copy_of": "zz"}]}"#.utf8), path: "bad.json")
        }
        expectBadFile(path: "bad.json", problem: "not valid JSON") { _ = try FeatureRoles.decode(Data("{".utf8), path: "bad.json") }
        // A parameters object with sklearn's defaults left out decodes to them.
        let defaults = try JSONDecoder().decode(Parameters.self, from: Data(#"{"n_features": 7}"#.utf8))
        #expect(defaults == Parameters(features: 7))
    }
}
