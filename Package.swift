// swift-tools-version:6.0
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
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
        // PostgreSQL (SWITCHBOARD_DATABASE_URL): PostgresNIO's connections in PostgresKit's pool.
        .package(url: "https://github.com/vapor/postgres-kit", from: "2.17.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/swhitty/FlyingFox", from: "0.27.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/swift-extras/swift-extras-base64", from: "1.2.0"),
        // Test only: reads the API's OpenAPI document back and validates it (AppTests).
        .package(url: "https://github.com/mattpolzin/OpenAPIKit", from: "6.4.0"),
    ],
    targets: [
        // C at the edge: libfcgi's header, seen only by `FastCGI`.
        .systemLibrary(name: "CFastCGI", pkgConfig: "fcgi", providers: [.apt(["libfcgi-dev"])]),
        .target(
            name: "FastCGI",
            dependencies: [
                "CFastCGI", .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "Web",
            dependencies: [
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ExtrasBase64", package: "swift-extras-base64"),
            ],
            swiftSettings: swiftSettings),
        // Pure values several modules share (a job's life, a capture's definition, a binding's
        // progress): no I/O, so they are tested alone and nothing has to import the store for them.
        .target(name: "Model", swiftSettings: swiftSettings),
        .target(
            name: "Store",
            dependencies: [
                "Model", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .target(name: "Transport", swiftSettings: swiftSettings),
        .target(
            name: "Fivetran", dependencies: ["Transport", .product(name: "Metrics", package: "swift-metrics")],
            resources: [.copy("Resources")], swiftSettings: swiftSettings),
        .target(
            name: "Front", dependencies: ["Transport", .product(name: "Metrics", package: "swift-metrics")],
            swiftSettings: swiftSettings),
        .target(name: "Capture", dependencies: ["Front", "Model", "Store", "Transport", "Yams"], swiftSettings: swiftSettings),
        .target(
            name: "Jobs",
            dependencies: [
                "Capture", "Model", "Store", "Front", "Transport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "Sandbox",
            dependencies: [
                "FlyingFox", .product(name: "FlyingSocks", package: "FlyingFox"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Resources")],
            swiftSettings: swiftSettings),
        .target(
            name: "App",
            dependencies: [
                "FastCGI", "Web", "Jobs", "Model", "Store", "Capture", "Front", "Fivetran", "Transport",
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            resources: [.copy("Resources")],
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "switchboard",
            dependencies: [
                "App", "FastCGI", "Capture", "Model", "Store",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings),
        // The stand-ins as their own program, so the product binary carries neither them nor FlyingFox.
        .executableTarget(
            name: "switchboard-sandbox",
            dependencies: [
                "Sandbox", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings),
        // Fuzzing (docs/fuzzing.md): one entry point per edge decoder or remote-data parser, run by
        // libFuzzer through `switchboard-fuzz` (scripts/fuzz) and replayed from Tests/FuzzCorpus by
        // FuzzReplayTests.
        .target(name: "FuzzTargets", dependencies: ["Web", "Front", "Fivetran", "Capture"], swiftSettings: swiftSettings),
        .executableTarget(name: "switchboard-fuzz", dependencies: ["FuzzTargets"], swiftSettings: swiftSettings),

        // What several test targets share: one virtual clock, one scripted transport, temp folders,
        // free ports, processes started and stopped by their own pids. Test code, so it lives under
        // Tests/; it depends on `Transport` alone (the value types its doubles speak), so even
        // EndToEndTests, which drives the real binaries, can use it without linking what it tests.
        .target(
            name: "SwitchboardTesting", dependencies: ["Transport"], path: "Tests/SwitchboardTesting",
            swiftSettings: swiftSettings),

        .testTarget(name: "FastCGITests", dependencies: ["FastCGI"], swiftSettings: swiftSettings),
        .testTarget(
            name: "WebTests", dependencies: ["Web", "SwitchboardTesting", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings),
        .testTarget(name: "EndToEndTests", dependencies: ["SwitchboardTesting"], swiftSettings: swiftSettings),
        .testTarget(
            name: "FivetranTests", dependencies: ["Fivetran", "Transport", "SwitchboardTesting"], swiftSettings: swiftSettings),
        .testTarget(
            name: "FivetranSandboxTests", dependencies: ["Sandbox", "Fivetran", "Transport", "SwitchboardTesting"],
            swiftSettings: swiftSettings),
        .testTarget(name: "FrontSandboxTests", dependencies: ["Sandbox"], swiftSettings: swiftSettings),
        .testTarget(name: "ModelTests", dependencies: ["Model"], swiftSettings: swiftSettings),
        .testTarget(
            name: "StoreTests",
            dependencies: ["Store", "Model", "SwitchboardTesting", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "FrontTests", dependencies: ["Front", "Transport", "SwitchboardTesting"], swiftSettings: swiftSettings),
        .testTarget(
            name: "JobsTests",
            dependencies: [
                "Jobs", "Capture", "Front", "Model", "Sandbox", "Store", "SwitchboardTesting",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "CaptureTests", dependencies: ["Capture", "Front", "Model", "Store", "Transport", "SwitchboardTesting"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "CaptureSandboxTests",
            dependencies: ["Capture", "Front", "Model", "Store", "Sandbox", "Transport", "SwitchboardTesting"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "AppTests",
            dependencies: [
                "App", "FastCGI", "Fivetran", "Model", "Sandbox", "Store", "SwitchboardTesting", "Web",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "OpenAPIKit", package: "OpenAPIKit"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(name: "FuzzReplayTests", dependencies: ["FuzzTargets"], swiftSettings: swiftSettings),
    ]
)
