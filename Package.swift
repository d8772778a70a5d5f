// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Glassbox",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Glassbox", targets: ["Glassbox"]),
        .executable(name: "glassbox", targets: ["glassbox"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // ONNX parsing only (the GlassboxONNX module): onnx.pb.swift is generated once and committed.
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        // Documentation only (`swift package generate-documentation`); adds nothing to the build.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // The only C: SIMD micro-kernels with runtime CPU dispatch (gb_cpu.h), no flags needed.
        .target(name: "CKernels"),
        .target(name: "GlassboxNN", dependencies: ["CKernels"]),
        .target(name: "GlassboxData", dependencies: ["GlassboxNN"], resources: [.copy("Resources")]),
        .target(name: "GlassboxImage", dependencies: ["GlassboxNN", "GlassboxData"]),
        .target(name: "GlassboxExplain", dependencies: ["CKernels", "GlassboxNN", "GlassboxData"]),
        .target(name: "GlassboxReport", dependencies: ["GlassboxNN", "GlassboxData"]),
        .target(name: "GlassboxONNX", dependencies: ["GlassboxNN", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                exclude: ["Proto"]),
        .target(name: "Glassbox", dependencies: ["GlassboxNN", "GlassboxData", "GlassboxImage", "GlassboxExplain", "GlassboxReport"]),
        .executableTarget(
            name: "glassbox",
            dependencies: ["Glassbox", "GlassboxONNX", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "GlassboxNNTests", dependencies: ["GlassboxNN"], resources: [.copy("Golden")]),
        .testTarget(name: "GlassboxTests", dependencies: ["Glassbox"], resources: [.copy("Reference")]),
        .testTarget(name: "GlassboxImageTests", dependencies: ["GlassboxImage", "Glassbox"]),
        .testTarget(name: "GlassboxONNXTests", dependencies: ["GlassboxONNX", "Glassbox"], resources: [.copy("Fixtures")]),
        .testTarget(name: "GlassboxExplainTests", dependencies: ["GlassboxExplain"]),
        .testTarget(name: "GlassboxReportTests", dependencies: ["GlassboxReport", "Glassbox"]),
        .testTarget(name: "GlassboxDataTests", dependencies: ["GlassboxData", "Glassbox"], exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v6]
)

// libFuzzer harnesses for every file loader, built only on request (they have no `main`):
//   GLASSBOX_FUZZ=1 swift build -c release -Xswiftc -sanitize=fuzzer --product fuzz-npy
// See docs/reliability.md.
if Context.environment["GLASSBOX_FUZZ"] != nil {
    let harnesses: [(String, [Target.Dependency])] = [
        ("CSV", ["GlassboxData"]), ("NPY", ["GlassboxData"]), ("IDX", ["GlassboxData"]), ("Gzip", ["GlassboxData"]),
        ("PNM", ["GlassboxData"]), ("SafeTensors", ["GlassboxNN"]), ("ModelFile", ["GlassboxNN"]), ("LayerSpec", ["GlassboxNN"]),
        ("ONNX", ["GlassboxONNX"]),
        ("PNG", ["GlassboxData"]), ("JPEG", ["GlassboxData"]),
    ]
    package.targets.append(.target(name: "FuzzSupport", path: "Fuzz/FuzzSupport"))
    for (name, dependencies) in harnesses {
        package.targets.append(.executableTarget(name: "Fuzz\(name)", dependencies: dependencies + ["FuzzSupport"],
                                                 path: "Fuzz/Fuzz\(name)"))
        package.products.append(.executable(name: "fuzz-\(name.lowercased())", targets: ["Fuzz\(name)"]))
    }
}
