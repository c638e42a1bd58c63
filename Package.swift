// swift-tools-version:6.0
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "switchboard",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "switchboard", targets: ["switchboard"]),
        .executable(name: "switchboard-sandbox", targets: ["switchboard-sandbox"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swhitty/FlyingFox", from: "0.27.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // C at the edge: libfcgi's header, seen only by `FastCGI`.
        .systemLibrary(name: "CFastCGI", pkgConfig: "fcgi", providers: [.apt(["libfcgi-dev"])]),
        .target(name: "FastCGI", dependencies: ["CFastCGI", .product(name: "Logging", package: "swift-log")], swiftSettings: swiftSettings),
        .target(
            name: "Web",
            dependencies: [
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings),
        .target(name: "Store", dependencies: [.product(name: "GRDB", package: "GRDB.swift")], swiftSettings: swiftSettings),
        .target(name: "Transport", swiftSettings: swiftSettings),
        .target(
            name: "Fivetran", dependencies: ["Transport", .product(name: "Metrics", package: "swift-metrics")],
            resources: [.copy("Resources")], swiftSettings: swiftSettings),
        .target(
            name: "Front", dependencies: ["Transport", .product(name: "Metrics", package: "swift-metrics")],
            swiftSettings: swiftSettings),
        .target(name: "Capture", dependencies: ["Front", "Store", "Yams"], swiftSettings: swiftSettings),
        .target(
            name: "Jobs",
            dependencies: [
                "Capture", "Store", "Front", "Transport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "Sandbox",
            dependencies: ["FlyingFox", .product(name: "Logging", package: "swift-log")],
            resources: [.copy("Resources")],
            swiftSettings: swiftSettings),
        .target(
            name: "App",
            dependencies: [
                "FastCGI", "Web", "Jobs", "Store", "Capture", "Front", "Fivetran", "Transport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "switchboard",
            dependencies: [
                "App", "FastCGI", "Capture", "Front", "Store", "Jobs",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings),
        // The stand-ins as their own program, so the product binary carries neither them nor FlyingFox.
        .executableTarget(
            name: "switchboard-sandbox",
            dependencies: ["Sandbox", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: swiftSettings),
        // Fuzzing (docs/fuzzing.md): one entry point per edge decoder or remote-data parser, run by
        // libFuzzer through `switchboard-fuzz` (scripts/fuzz) and replayed from Tests/FuzzCorpus by
        // FuzzReplayTests.
        .target(name: "FuzzTargets", dependencies: ["Web", "Front", "Fivetran", "Capture"], swiftSettings: swiftSettings),
        .executableTarget(name: "switchboard-fuzz", dependencies: ["FuzzTargets"], swiftSettings: swiftSettings),

        .testTarget(name: "FastCGITests", dependencies: ["FastCGI"], swiftSettings: swiftSettings),
        .testTarget(name: "WebTests", dependencies: ["Web"], swiftSettings: swiftSettings),
        .testTarget(name: "EndToEndTests", dependencies: [], swiftSettings: swiftSettings),
        .testTarget(name: "FivetranTests", dependencies: ["Fivetran", "Transport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "FivetranSandboxTests", dependencies: ["Sandbox", "Fivetran", "Transport"], swiftSettings: swiftSettings),
        .testTarget(name: "FrontSandboxTests", dependencies: ["Sandbox"], swiftSettings: swiftSettings),
        .testTarget(name: "StoreTests", dependencies: ["Store", .product(name: "GRDB", package: "GRDB.swift")], swiftSettings: swiftSettings),
        .testTarget(name: "FrontTests", dependencies: ["Front", "Transport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "JobsTests", dependencies: ["Jobs", "Store", "Capture", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings),
        .testTarget(name: "CaptureTests", dependencies: ["Capture", "Front", "Store", "Transport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "CaptureSandboxTests", dependencies: ["Capture", "Front", "Store", "Sandbox", "Transport"],
            swiftSettings: swiftSettings),
        .testTarget(name: "FuzzReplayTests", dependencies: ["FuzzTargets"], swiftSettings: swiftSettings),
    ]
)
