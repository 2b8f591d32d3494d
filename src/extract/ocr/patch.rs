//! Kodak's Patch T, the separator code of document scanners: four black bars,
//! wide, narrow, wide, narrow (5 mm and 2 mm) with 2 mm gaps, 20 mm across and at
//! least 19 mm long (50 mm on the printed sheets), usually printed along an edge.
//! It carries no data and no barcode reader decodes it, so it is found here by its
//! geometry: the same seven runs (bar, gap, bar, …) at the same place on scan
//! lines covering at least 19 mm, across the page or down it (a sheet fed
//! sideways). Patch 2 and Patch 3 (wide-narrow-narrow-wide and
//! narrow-wide-wide-narrow) are palindromes; Patch T is not, so it reads as
//! W N W N from one side and N W N W from the other.

/// Grey below this is a bar.
const DARK: u8 = 128;
/// Bars must run on for this long (the shortest patch Kodak specifies).
const MIN_LENGTH_MM: f64 = 19.0;
/// The patch's unit (a narrow bar or a gap): 2 mm printed; copies and scaled
/// prints land between these.
const MIN_UNIT_MM: f64 = 1.3;
const MAX_UNIT_MM: f64 = 3.2;

/// Whether the 8-bit grey page (`width` × `height`, `dpi` dots per inch, 0 if
/// unknown) carries a Patch T.
pub fn has_patch_t(grey: &[u8], width: usize, height: usize, dpi: u32) -> bool {
    if width == 0 || height == 0 || grey.len() != width * height {
        return false;
    }
    let dpi = if (100..=1200).contains(&dpi) {
        dpi as f64
    } else {
        width as f64 / (210.0 / 25.4)
    };
    let px_per_mm = dpi / 25.4;
    let across = |y: usize, x: usize| grey[y * width + x];
    let down = |x: usize, y: usize| grey[y * width + x];
    found_along(width, height, px_per_mm, across) || found_along(height, width, px_per_mm, down)
}

/// Look for the pattern on lines of length `len`, `lines` of them, `pixel(line, i)`.
fn found_along(
    len: usize,
    lines: usize,
    px_per_mm: f64,
    pixel: impl Fn(usize, usize) -> u8,
) -> bool {
    // One scan line per millimetre; a patch 19 mm long crosses 19 of them.
    let step = px_per_mm.max(1.0) as usize;
    let needed = (MIN_LENGTH_MM - 1.0) as usize;
    let tolerance = (px_per_mm * 1.5) as i64;
    // Patches seen on the lines so far: (start, lines seen, last line). One line
    // may miss (a speck, a break in a copied bar).
    let mut tracks: Vec<(i64, usize, usize)> = Vec::new();
    let mut runs = Vec::with_capacity(256);
    for line in (0..lines).step_by(step) {
        runs.clear();
        let mut start = 0;
        let mut dark = pixel(line, 0) < DARK;
        for i in 1..len {
            let d = pixel(line, i) < DARK;
            if d != dark {
                runs.push((dark, start, i - start));
                start = i;
                dark = d;
            }
        }
        runs.push((dark, start, len - start));
        for at in patches_on_line(&runs, px_per_mm) {
            match tracks
                .iter_mut()
                .find(|(s, _, last)| (s - at as i64).abs() <= tolerance && *last + 2 * step >= line)
            {
                Some(track) => {
                    track.0 = at as i64; // follows a slightly skewed sheet
                    track.1 += 1;
                    track.2 = line;
                    if track.1 >= needed {
                        return true;
                    }
                }
                None => tracks.push((at as i64, 1, line)),
            }
        }
        tracks.retain(|(_, _, last)| *last + 2 * step > line);
    }
    false
}

/// Where on one line (as runs of `(dark, start, length)`) a Patch T starts.
fn patches_on_line(runs: &[(bool, usize, usize)], px_per_mm: f64) -> Vec<usize> {
    let mut found = Vec::new();
    // Seven runs from a bar, with light runs (quiet zones) on both sides.
    for i in 1..runs.len().saturating_sub(7) {
        let window = &runs[i..i + 7];
        // Runs alternate, so a window that starts dark ends dark, between light.
        if !window[0].0 {
            continue;
        }
        let widths: Vec<f64> = window.iter().map(|r| r.2 as f64).collect();
        let total: f64 = widths.iter().sum();
        // W N W N = 2.5 + 1 + 1 + 1 + 2.5 + 1 + 1 (gaps included) = 10 units.
        let unit = total / 10.0;
        let unit_mm = unit / px_per_mm;
        if !(MIN_UNIT_MM..=MAX_UNIT_MM).contains(&unit_mm) {
            continue;
        }
        let quiet = |r: &(bool, usize, usize)| r.2 as f64 >= unit * 1.5;
        if !quiet(&runs[i - 1]) || !quiet(&runs[i + 7]) {
            continue;
        }
        let wnwn = [2.5, 1.0, 1.0, 1.0, 2.5, 1.0, 1.0];
        let nwnw = [1.0, 1.0, 2.5, 1.0, 1.0, 1.0, 2.5];
        let fits = |pattern: &[f64; 7]| {
            widths
                .iter()
                .zip(pattern)
                .all(|(w, p)| (w / unit - p).abs() <= if *p > 2.0 { 0.7 } else { 0.45 })
        };
        if fits(&wnwn) || fits(&nwnw) {
            found.push(window[0].1);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use crate::extract::ocr::patch::has_patch_t;

    /// A white A4 page at 200 dpi with vertical bars of these widths (mm) and
    /// gaps between, from x = 20 mm, `length_mm` long.
    fn page(bars: &[(f64, bool)], length_mm: f64) -> (Vec<u8>, usize, usize) {
        let (w, h) = (1654, 2339);
        let mm = 200.0 / 25.4;
        let mut grey = vec![255u8; w * h];
        let mut x = 20.0 * mm;
        for &(width_mm, dark) in bars {
            let next = x + width_mm * mm;
            if dark {
                for y in (40.0 * mm) as usize..((40.0 + length_mm) * mm) as usize {
                    for px in x as usize..next as usize {
                        grey[y * w + px] = 10;
                    }
                }
            }
            x = next;
        }
        (grey, w, h)
    }

    fn patch(pattern: [f64; 4]) -> Vec<(f64, bool)> {
        vec![
            (pattern[0], true),
            (2.0, false),
            (pattern[1], true),
            (2.0, false),
            (pattern[2], true),
            (2.0, false),
            (pattern[3], true),
        ]
    }

    #[test]
    fn patch_t_is_found_from_either_side_and_patch_2_and_3_are_not() {
        let (g, w, h) = page(&patch([5.0, 2.0, 5.0, 2.0]), 50.0);
        assert!(has_patch_t(&g, w, h, 200));
        let (g, w, h) = page(&patch([2.0, 5.0, 2.0, 5.0]), 50.0);
        assert!(has_patch_t(&g, w, h, 200));
        let (g, w, h) = page(&patch([5.0, 2.0, 2.0, 5.0]), 50.0);
        assert!(!has_patch_t(&g, w, h, 200), "patch 2");
        let (g, w, h) = page(&patch([2.0, 5.0, 5.0, 2.0]), 50.0);
        assert!(!has_patch_t(&g, w, h, 200), "patch 3");
    }

    #[test]
    fn bars_too_short_or_too_fine_are_no_patch() {
        let (g, w, h) = page(&patch([5.0, 2.0, 5.0, 2.0]), 10.0);
        assert!(!has_patch_t(&g, w, h, 200), "10 mm long");
        let fine = patch([5.0, 2.0, 5.0, 2.0])
            .into_iter()
            .map(|(mm, dark)| (mm / 4.0, dark))
            .collect::<Vec<_>>();
        let (g, w, h) = page(&fine, 50.0);
        assert!(!has_patch_t(&g, w, h, 200), "a barcode's fine bars");
        let blank = vec![255u8; 1654 * 2339];
        assert!(!has_patch_t(&blank, 1654, 2339, 200));
    }
}
