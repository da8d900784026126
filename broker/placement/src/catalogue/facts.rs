//! The facts the filters read, packed per offer in one contiguous array so that filtering ten
//! thousand offers reads a few cache lines each instead of chasing every offer's heap fields.

use super::offer::{Offer, QualificationStatus};
use crate::country::CountryCode;
use crate::money::Money;
use crate::vocabulary::{ServiceKind, Tier};
use chrono::NaiveDate;

/// Regions whose countries are kept inline; offers with more read their regions list.
pub(crate) const INLINE_REGIONS: usize = 8;

/// The filter-relevant facts of one offer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Facts {
    pub(crate) tier: Tier,
    pub(crate) snc: QualificationStatus,
    pub(crate) hds: bool,
    pub(crate) dr: bool,
    pub(crate) non_eu_control: bool,
    pub(crate) non_eu_technology: bool,
    pub(crate) has_images: bool,
    pub(crate) services: u8,
    pub(crate) regions: u8,
    pub(crate) countries: [CountryCode; INLINE_REGIONS],
    pub(crate) snc_from: Option<NaiveDate>,
    pub(crate) snc_until: Option<NaiveDate>,
    pub(crate) hds_until: Option<NaiveDate>,
    /// Per-vCPU pricing, when the offer uses it: (price per vCPU-hour, GiB included per vCPU).
    pub(crate) per_vcpu: Option<(Money, u32)>,
    pub(crate) block_gib_month: Money,
    /// Servers, vCPUs, RAM GiB, storage GiB still available; `u64::MAX` when unlimited.
    pub(crate) capacity: [u64; 4],
    /// The offer's flavors in the catalogue's flavor table: (start, count).
    pub(crate) flavors: (u32, u32),
}

/// A flavor as the cost filter reads it, in one contiguous table for the whole catalogue.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PackedFlavor {
    pub(crate) vcpus: u32,
    pub(crate) ram_gib: u32,
    pub(crate) hour: Money,
}

pub(crate) fn service_bit(kind: ServiceKind) -> u8 {
    1 << (kind as u8)
}

impl Facts {
    /// The facts of `o`, appending its flavors to `table`.
    pub(crate) fn of(o: &Offer, table: &mut Vec<PackedFlavor>) -> Facts {
        let start = u32::try_from(table.len()).unwrap_or(u32::MAX);
        table.extend(o.pricing.flavors.iter().map(|f| PackedFlavor {
            vcpus: f.vcpus,
            ram_gib: f.ram_gib,
            hour: f.hour,
        }));
        let count = u32::try_from(o.pricing.flavors.len()).unwrap_or(0);
        let c = o.capacity;
        let cap = |x: Option<u64>| x.unwrap_or(u64::MAX);
        let mut countries = [CountryCode::parse("ZZ").expect("ZZ parses"); INLINE_REGIONS];
        for (slot, r) in countries.iter_mut().zip(&o.regions) {
            *slot = r.country;
        }
        Facts {
            tier: o.tier,
            snc: o.secnumcloud.status,
            hds: o.hds.certified,
            dr: o.dr_capable,
            non_eu_control: o.jurisdiction.non_eu_control,
            non_eu_technology: o.jurisdiction.technology_dependency_non_eu,
            has_images: !o.images.is_empty(),
            services: o.services.iter().fold(0, |acc, k| acc | service_bit(*k)),
            regions: u8::try_from(o.regions.len()).unwrap_or(u8::MAX),
            countries,
            snc_from: o.secnumcloud.since,
            snc_until: o.secnumcloud.expires(),
            hds_until: o.hds.valid_until,
            per_vcpu: o.pricing.vcpu_hour.zip(o.pricing.ram_gib_per_vcpu),
            block_gib_month: o.pricing.block_gib_month.unwrap_or(Money::ZERO),
            capacity: [
                cap(c.servers),
                cap(c.vcpus),
                cap(c.ram_gib),
                cap(c.storage_gib),
            ],
            flavors: (start, count),
        }
    }

    /// The country of region `i`.
    #[inline]
    pub(crate) fn country(&self, offer: &Offer, i: usize) -> CountryCode {
        if i < INLINE_REGIONS {
            self.countries[i]
        } else {
            region_country(offer, i)
        }
    }
}

/// Kept out of line so the hot filter loop never loads the offer itself.
#[cold]
#[inline(never)]
fn region_country(offer: &Offer, i: usize) -> CountryCode {
    offer.regions[i].country
}
