//! Rendering a long list on every core while keeping the output in order: the list is cut
//! into batches, a window of batches is rendered in parallel, and the rendered batches are
//! handed on in order before the next window starts. The bytes do not depend on the number
//! of threads, and what is held at a time is one window, whatever the length of the list.

use rayon::prelude::*;

/// Batches rendered at once before they are handed on.
const BATCHES_PER_WINDOW: usize = 8;

/// Renders `items` in batches of `per_batch` with `render` on every core, and hands each
/// rendered batch to `write` in order. The first error, in order, ends it.
pub(crate) fn render_in_order<T: Sync, E: Send>(
    items: &[T],
    per_batch: usize,
    render: impl Fn(&[T]) -> Result<Vec<u8>, E> + Sync,
    mut write: impl FnMut(Vec<u8>) -> Result<(), E>,
) -> Result<(), E> {
    let per_batch = per_batch.max(1);
    for window in items.chunks(per_batch * BATCHES_PER_WINDOW) {
        let batches: Vec<Result<Vec<u8>, E>> = window.par_chunks(per_batch).map(&render).collect();
        for b in batches {
            write(b?)?;
        }
    }
    Ok(())
}
