import FuzzTargets

#if FUZZING
    #if canImport(Glibc)
        import Glibc
    #endif

    /// The target named by `FUZZ_TARGET`, looked up once.
    nonisolated(unsafe) private var selected: FuzzTarget? = nil

    /// libFuzzer's entry point: `scripts/fuzz` builds this file with `-sanitize=fuzzer` and `-DFUZZING`.
    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
        if selected == nil {
            let name = getenv("FUZZ_TARGET").map { String(cString: $0) } ?? ""
            guard let target = FuzzTarget(rawValue: name) else {
                let names = FuzzTarget.allCases.map(\.name).joined(separator: ", ")
                print("switchboard-fuzz: set FUZZ_TARGET to one of: \(names)")
                exit(2)
            }
            selected = target
        }
        let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
        selected!.run(bytes)
        return 0
    }

    @_silgen_name("LLVMFuzzerRunDriver")
    private func runDriver(
        _ argc: UnsafeMutablePointer<Int32>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
    ) -> Int32

    /// SwiftPM links an executable with `main` aliased to `<module>_main` (so tests can import it),
    /// which would hide libFuzzer's own `main`; this one hands over to libFuzzer's driver instead.
    @_cdecl("switchboard_fuzz_main")
    public func fuzzMain(
        _ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
    ) -> Int32 {
        var count = argc
        var arguments = argv
        return runDriver(&count, &arguments) { data, size in fuzzOne(data, size) }
    }
#else
    /// Without `-DFUZZING` (a plain `swift build`) this is only a pointer to the script.
    @main
    struct SwitchboardFuzz {
        static func main() {
            let names = FuzzTarget.allCases.map(\.name).joined(separator: " ")
            print(
                """
                switchboard-fuzz is a libFuzzer binary; build and run it with scripts/fuzz:
                  scripts/fuzz TARGET SECONDS     (targets: \(names))
                  scripts/fuzz list
                """)
        }
    }
#endif
