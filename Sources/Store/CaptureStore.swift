import Foundation
import Model

/// Saved captures (their definitions, `CaptureRecord`): what the capture pages list and save,
/// and what a runner reads to know what a job copies.
public protocol CaptureStore: Sendable {
    /// Saves a capture; a name or collection prefix already taken is refused with
    /// `StoreError.isNameTaken`, so two captures never write one collection.
    func insertCapture(_ capture: NewCapture, at now: Date) throws(StoreError) -> CaptureRecord

    /// Every capture, by name (case-insensitive).
    func captures() throws(StoreError) -> [CaptureRecord]

    func capture(id: Int64) throws(StoreError) -> CaptureRecord?
}

extension CaptureStore {
    public func insertCapture(_ capture: NewCapture) throws(StoreError) -> CaptureRecord {
        try insertCapture(capture, at: Date())
    }
}
