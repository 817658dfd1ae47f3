//! Elo ratings from pairwise judgements.

use std::collections::BTreeMap;

pub const INITIAL_RATING: f64 = 1200.0;
/// How far one match moves a rating. 32 is the usual choice for few games.
pub const K_FACTOR: f64 = 32.0;

/// The expected score of a player rated `rating` against one rated `other`.
pub fn expected(rating: f64, other: f64) -> f64 {
    1.0 / (1.0 + 10f64.powf((other - rating) / 400.0))
}

/// Applies one match: `winner` beat `loser`.
pub fn play(ratings: &mut BTreeMap<String, f64>, winner: &str, loser: &str) {
    let rating_of = |ratings: &BTreeMap<String, f64>, id: &str| ratings.get(id).copied().unwrap_or(INITIAL_RATING);
    let (w, l) = (rating_of(ratings, winner), rating_of(ratings, loser));
    let change = K_FACTOR * (1.0 - expected(w, l));
    ratings.insert(winner.to_owned(), w + change);
    ratings.insert(loser.to_owned(), l - change);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_players_move_by_half_k() {
        let mut ratings = BTreeMap::new();
        play(&mut ratings, "a", "b");
        assert_eq!(ratings["a"], INITIAL_RATING + K_FACTOR / 2.0);
        assert_eq!(ratings["b"], INITIAL_RATING - K_FACTOR / 2.0);
    }

    #[test]
    fn rating_is_conserved_and_upsets_move_more() {
        let mut ratings = BTreeMap::from([("strong".to_owned(), 1400.0), ("weak".to_owned(), 1000.0)]);
        play(&mut ratings, "strong", "weak");
        let expected_win = 1400.0 - ratings["strong"];
        assert!(
            expected_win < 0.0 && -expected_win < 4.0,
            "a favourite gains little: {ratings:?}"
        );
        let mut upset = BTreeMap::from([("strong".to_owned(), 1400.0), ("weak".to_owned(), 1000.0)]);
        play(&mut upset, "weak", "strong");
        assert!(upset["weak"] - 1000.0 > 28.0, "an upset gains almost K: {upset:?}");
        let total: f64 = upset.values().sum();
        assert!((total - 2400.0).abs() < 1e-9);
    }

    #[test]
    fn a_win_in_each_order_cancels() {
        let mut ratings = BTreeMap::new();
        play(&mut ratings, "a", "b");
        play(&mut ratings, "b", "a");
        // Not exactly back to 1200 (the second game is played from unequal ratings) but close and symmetric.
        assert!((ratings["a"] - ratings["b"]).abs() < 3.0, "{ratings:?}");
        assert!((ratings["a"] + ratings["b"] - 2400.0).abs() < 1e-9);
    }
}
