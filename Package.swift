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
    ],
    targets: [
        // The only C: SIMD micro-kernels with runtime CPU dispatch (target_clones), no flags needed.
        .target(name: "CKernels"),
        .target(name: "GlassboxNN", dependencies: ["CKernels"]),
        .target(name: "GlassboxData", dependencies: ["GlassboxNN"], resources: [.copy("Resources")]),
        .target(name: "Glassbox", dependencies: ["GlassboxNN", "GlassboxData"]),
        .executableTarget(
            name: "glassbox",
            dependencies: ["Glassbox", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "GlassboxNNTests", dependencies: ["GlassboxNN"], resources: [.copy("Golden")]),
        .testTarget(name: "GlassboxTests", dependencies: ["Glassbox"], resources: [.copy("Reference")]),
        .testTarget(name: "GlassboxDataTests", dependencies: ["GlassboxData", "Glassbox"], exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v6]
)
