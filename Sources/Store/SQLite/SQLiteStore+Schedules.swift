import Foundation
import GRDB
import Model

// Schedules, the company lease and capture edits. (Being written: these answer "not yet".)
extension SQLiteStore {
    public func updateCapture(id: Int64, _ change: CaptureChange, at now: Date) throws(StoreError) -> CaptureRecord? {
        throw StoreError(path: path, action: "change capture \(id)", underlying: NotYet())
    }

    @discardableResult
    public func deleteCapture(id: Int64, collections: CollectionChoice) throws(StoreError) -> Bool {
        throw StoreError(path: path, action: "delete capture \(id)", underlying: NotYet())
    }

    public func collectionsAsOf() throws(StoreError) -> [String: Date] { [:] }

    public func lastSuccesses() throws(StoreError) -> [Int64: Date] { [:] }

    public func takeCompanyLease(
        jobID: Int64, token: String, company: String, leaseFor: Duration, at now: Date
    ) throws(StoreError) -> Bool { true }

    public func enqueueDueRuns(at now: Date, limit: Int) throws(StoreError) -> [JobRecord] { [] }

    @discardableResult
    public func catchUpMissedRuns(at now: Date, grace: Double, spread: Double) throws(StoreError) -> Int { 0 }
}

private struct NotYet: Error {}
