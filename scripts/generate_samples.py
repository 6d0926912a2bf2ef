"""Write the sample files in samples/: subscribers and events as the team really receives them.

The demo, the tests and anyone trying the tool need files that look like the real exports —
semicolons, a BOM, Windows-1252 from Excel, duplicates in another case, broken addresses, regions
spelt every way, French dates — without a single real person or organisation in them. Every
name here is made up and every domain is an example one (example.org/.com/.fr).

Deterministic: a fixed random seed and no clock, so running it twice writes identical bytes and
tests can check that the shipped samples are exactly what this script produces.

Usage: python scripts/generate_samples.py [--out DIR]   (default: samples/ beside scripts/)
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from campaign.taxonomy import Taxonomy, fold

SEED = 2026
YEAR = 2026
ZONE = ZoneInfo("Europe/Paris")
ROOT = Path(__file__).resolve().parent.parent

SUBSCRIBERS_UNIQUE = 2910  # distinct valid addresses in subscribers.csv
SUBSCRIBERS_DUPLICATES = 60  # the same address again, in another case (~2%)
SUBSCRIBERS_INVALID = 30  # addresses no one can mail (~1%)
EXCEL_OVERLAP = 60  # rows of the Excel file whose address is also in subscribers.csv
EXCEL_NEW = 237
EXCEL_INVALID = 3
EVENTS_VALID = 300


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST_NAMES = _words(
    "Adèle Agathe Alice Amandine Anaïs Annabelle Apolline Aurélie Bérénice Camille Capucine "
    "Céline Chloé Clémence Coralie Delphine Élise Éloïse Émilie Estelle Fanny Florence Gaëlle "
    "Hélène Inès Jeanne Joséphine Judith Laëtitia Léa Léonie Louise Lucie Maëlle Manon Margaux "
    "Marine Mathilde Noémie Océane Pauline Perrine Rose Salomé Solène Thaïs Zoé "
    "Adrien Alexis Antoine Armand Arthur Aurélien Baptiste Benoît Bastien Clément Corentin Damien "
    "Édouard Élie Étienne Félix Florian Gaël Gaspard Grégoire Hugo Jérôme Joël Jules Léon Loïc "
    "Louis Lucas Marius Mathieu Maxime Noé Octave Pierre Quentin Rémi Romain Sébastien Théo "
    "Thibault Valentin Victor Yannick"
)
LAST_NAMES = _words(
    "Abadie Aubertin Barrère Bellanger Bertrandon Bonnefoy Bourgade Brochard Carrère Chabrol "
    "Chastagnier Coquelin Courtade Daguerre Delmas Desbordes Duclaux Dufresnoy Estival Fabrègue "
    "Faucheux Ferrandon Fontanel Garnaud Gaudefroy Grangier Guérinel Hérault Jouanneau Labarthe "
    "Lacombe Lafargue Lagarrigue Lanoë Larrieu Lebastard Leclercq Lemarié Lespinasse Malvezin "
    "Marchetti Maréchaux Mercadier Montagnac Morvan Nadaud Pélissier Penhoët Peyrade Pouzet "
    "Quéméneur Raffin Rigaudière Roussillon Sabatier Sauvagnac Ségalen Soubiran Tardieu Terrasson "
    "Thévenot Toulemonde Vaissière Valadier Verdier Vigouroux"
)
DOMAINS = ("example.org", "example.com", "example.fr")

FAMILIES = (
    "Association",
    "Coopérative",
    "Mutuelle",
    "Fondation",
    "Collectivité",
    "Entreprise sociale",
)
FAMILY_PREFIX = {
    "Association": ("Association", "Collectif", "Réseau", "Maison"),
    "Coopérative": ("Coopérative", "SCOP", "SCIC", "Coopérative d'activités"),
    "Mutuelle": ("Mutuelle", "Mutuelle solidaire"),
    "Fondation": ("Fondation", "Fonds de dotation"),
    "Collectivité": ("Communauté de communes", "Mairie de", "Agglomération de"),
    "Entreprise sociale": ("Entreprise d'insertion", "Atelier", "Régie de quartier"),
}
ORG_NAMES = (
    "Les Jardins du Partage",
    "La Navette",
    "Le Grain de Sel",
    "Terre d'Entraide",
    "L'Établi Solidaire",
    "Les Ateliers du Pont",
    "La Ruche Voisine",
    "Cap Horizon",
    "Les Mains Vertes",
    "La Fabrique à Liens",
    "Le Panier Commun",
    "L'Arbre à Palabres",
    "Les Toits Partagés",
    "Rebonds",
    "La Recyclerie des Coteaux",
    "Vélo Avenir",
    "Le Chaudron",
    "Tiers-Lieu La Forge",
    "Les Petites Pierres",
    "Solid'Air",
    "Pas à Pas",
    "L'Épicerie du Coin",
    "Les Écluses",
    "Entre-Deux-Rives",
    "Le Phare",
)
SECTORS = (
    "Insertion par l'activité économique",
    "Habitat",
    "Culture",
    "Alimentation",
    "Finance solidaire",
    "Sport et loisirs",
    "Santé",
    "Environnement",
    "Éducation populaire",
    "Services à la personne",
    "Mobilité",
)
SIZES = ("0 salarié", "1 à 9 salariés", "10 à 49 salariés", "50 à 249 salariés", "250 et plus")
PUBLICS = (
    "Grand public",
    "Professionnels de l'ESS",
    "Jeunes",
    "Élèves et étudiants",
    "Institutions",
    "Porteurs de projet",
    "Militants",
)
TYPES = (
    "Débat",
    "Portes ouvertes",
    "Projection",
    "Formation",
    "Animation grand public",
    "Moment festif",
    "Conférence",
    "Atelier",
    "Forum",
    "Visite",
)
# Per daily theme (matched folded, so the taxonomy may rename them): a few subjects.
TOPICS = {
    "se loger": ("l'habitat participatif", "le logement des jeunes", "les foncières solidaires"),
    "travailler": ("l'insertion par l'emploi", "les coopératives d'activités", "l'emploi local"),
    "consommer": ("les circuits courts", "le réemploi", "les monnaies locales"),
    "s evader": ("le tourisme social", "les vacances pour tous", "les loisirs partagés"),
    "participer et cooperer": (
        "la gouvernance partagée",
        "le bénévolat",
        "les tiers-lieux",
    ),
    "entreprendre epargner et investir": (
        "la finance solidaire",
        "entreprendre en coopérative",
        "l'épargne citoyenne",
    ),
    "prendre soin de sa sante": ("la santé mutualiste", "les aidants", "le sport-santé"),
    "se cultiver": ("les lieux culturels partagés", "l'éducation populaire", "la lecture"),
    "preserver l environnement": (
        "la transition écologique",
        "les énergies citoyennes",
        "le zéro déchet",
    ),
    "se deplacer": ("la mobilité solidaire", "le vélo pour tous", "le covoiturage rural"),
}
FILMS = ("Demain ensemble", "Les Coopérateurs", "Le Champ des possibles", "Main dans la main")
TITLE_TEMPLATES = {
    "Débat": ("Débat : {topic}, et demain ?", "Regards croisés sur {topic}"),
    "Portes ouvertes": ("Portes ouvertes chez {org}", "{org} ouvre ses portes"),
    "Projection": ("Ciné-débat « {film} »", "Projection « {film} » suivie d'un échange"),
    "Formation": ("Formation : comprendre {topic}", "Initiation à {topic}"),
    "Animation grand public": ("Village de l'ESS à {city}", "Jeu de piste : {topic}"),
    "Moment festif": ("Apéro-rencontre de l'ESS à {city}", "Soirée festive de {org}"),
    "Conférence": ("Conférence : {topic}", "{topic} : où en est-on ?"),
    "Atelier": ("Atelier pratique : {topic}", "Atelier participatif sur {topic}"),
    "Forum": ("Forum de l'ESS de {city}", "Forum emploi et ESS à {city}"),
    "Visite": ("Visite de {org}", "Balade à la découverte de {topic}"),
}
VENUES = (
    "Salle des fêtes",
    "Médiathèque",
    "Maison des associations",
    "Tiers-lieu",
    "Hôtel de ville",
    "Cinéma associatif",
    "Locaux de l'organisateur",
    "Halle du marché",
)
STREETS = (
    "rue de la République",
    "avenue Jean Jaurès",
    "place du Marché",
    "rue des Écoles",
    "boulevard Victor Hugo",
    "rue du Moulin",
    "allée des Tilleuls",
    "quai de la Gare",
)
# A few real towns per region (public geography), with a postcode that maps to that region.
CITIES = {
    "Auvergne-Rhône-Alpes": (
        ("Lyon", "69003"),
        ("Grenoble", "38000"),
        ("Clermont-Ferrand", "63000"),
    ),
    "Bourgogne-Franche-Comté": (("Dijon", "21000"), ("Besançon", "25000"), ("Nevers", "58000")),
    "Bretagne": (("Rennes", "35000"), ("Brest", "29200"), ("Lorient", "56100")),
    "Centre-Val de Loire": (("Tours", "37000"), ("Orléans", "45000"), ("Bourges", "18000")),
    "Corse": (("Ajaccio", "20000"), ("Bastia", "20200")),
    "Grand Est": (("Strasbourg", "67000"), ("Nancy", "54000"), ("Reims", "51100")),
    "Hauts-de-France": (("Lille", "59000"), ("Amiens", "80000"), ("Arras", "62000")),
    "Île-de-France": (("Paris", "75011"), ("Montreuil", "93100"), ("Nanterre", "92000")),
    "Normandie": (("Rouen", "76000"), ("Caen", "14000"), ("Cherbourg-en-Cotentin", "50100")),
    "Nouvelle-Aquitaine": (("Bordeaux", "33000"), ("Limoges", "87000"), ("Poitiers", "86000")),
    "Occitanie": (("Toulouse", "31000"), ("Montpellier", "34000"), ("Albi", "81000")),
    "Pays de la Loire": (("Nantes", "44000"), ("Angers", "49000"), ("Le Mans", "72000")),
    "Provence-Alpes-Côte d'Azur": (("Marseille", "13001"), ("Nice", "06000"), ("Avignon", "84000")),
    "Guadeloupe": (("Pointe-à-Pitre", "97110"), ("Basse-Terre", "97100")),
    "Martinique": (("Fort-de-France", "97200"), ("Le Lamentin", "97232")),
    "Guyane": (("Cayenne", "97300"), ("Kourou", "97310")),
    "La Réunion": (("Saint-Denis", "97400"), ("Saint-Pierre", "97410")),
    "Mayotte": (("Mamoudzou", "97600"), ("Dzaoudzi", "97615")),
}
REGION_WEIGHTS = {"Île-de-France": 6, "Auvergne-Rhône-Alpes": 4, "Occitanie": 3}
START_TIMES = ("09:00", "09:30", "10:00", "14:00", "14:30", "17:30", "18:00", "18:30", "20:00")

EVENT_HEADERS = (
    "Identifiant",
    "Titre",
    "Description",
    "Date de début",
    "Date de fin",
    "Lieu",
    "Adresse",
    "Code postal",
    "Ville",
    "Région",
    "Type",
    "Thème du jour",
    "Publics",
    "Organisateur",
    "Famille",
    "Secteur",
    "Effectif",
    "Co-organisateurs",
    "Date d'inscription",
    "Lien",
    "Image",
)
SUBSCRIBER_HEADERS = (
    "Adresse e-mail",
    "Prénom",
    "Nom",
    "Structure",
    "Région",
    "Code postal",
    "Ville",
    "Date d'inscription",
)
EXCEL_HEADERS = ("Courriel", "Prénom", "Nom", "Organisme", "Région", "CP")


@dataclass
class Sample:
    name: str
    data: bytes
    summary: str


# --- shared helpers ----------------------------------------------------------------------------


_CONTRACTIONS = (
    (" de le ", " du "),
    (" de les ", " des "),
    (" à le ", " au "),
    (" à les ", " aux "),
)


def _elide(text: str) -> str:
    """French contractions after filling a template ("parler de le réemploi" -> "du")."""
    for wrong, right in _CONTRACTIONS:
        text = text.replace(wrong, right)
    return text


def _slug(text: str) -> str:
    return fold(text).replace(" ", "-")


def _weighted_regions(taxonomy: Taxonomy) -> list[str]:
    return [region for region in taxonomy.regions for _ in range(REGION_WEIGHTS.get(region, 1))]


def _city(rng: random.Random, region: str) -> tuple[str, str]:
    city, postcode = rng.choice(CITIES[region])
    return city, postcode


def _region_spellings(taxonomy: Taxonomy, region: str) -> list[str]:
    """How people write ``region`` when it is not the official name (all map back to it)."""
    aliases = tomllib.loads(
        resources.files("campaign.data").joinpath("taxonomy.toml").read_text(encoding="utf-8")
    )["aliases"]
    candidates = [region.upper(), fold(region), *aliases.get(region, ())]
    return [text for text in dict.fromkeys(candidates) if taxonomy.region(text) == region]


def _organisation(rng: random.Random) -> tuple[str, str]:
    family = rng.choice(FAMILIES)
    prefix = rng.choice(FAMILY_PREFIX[family])
    if family == "Collectivité":
        return (
            family,
            f"{prefix} {rng.choice(('Valbrune', 'Clairefont', 'Montlouvier', 'Hautvent'))}",
        )
    return family, f"{prefix} {rng.choice(ORG_NAMES)}"


def _csv_bytes(headers: tuple[str, ...], rows: list[list[str]], encoding: str) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


# --- subscribers -------------------------------------------------------------------------------


def _address(rng: random.Random, first: str, last: str, used: set[str]) -> str:
    base = f"{_slug(first)}.{_slug(last)}".replace("-", "")
    domain = rng.choice(DOMAINS)
    candidate = f"{base}@{domain}"
    number = 2
    while candidate in used:
        candidate = f"{base}{number}@{domain}"
        number += 1
    used.add(candidate)
    return candidate


def _invalid_address(rng: random.Random, first: str, last: str, index: int) -> str:
    local = f"{_slug(first)}.{_slug(last)}{index}".replace("-", "")
    return rng.choice(
        (
            f"{local}@",
            f"{local}.example.org",
            f"{local}@@example.com",
            f"{first.lower()} {last.lower()}@example.fr",
            f"{local}@example",
            f"{local}@example..org",
        )
    )


def _other_case(address: str) -> str:
    local, domain = address.split("@")
    return f"{local.title()}@{domain.upper() if len(local) % 2 else domain.capitalize()}"


def _subscriber_region(rng: random.Random, taxonomy: Taxonomy, region: str) -> tuple[str, str]:
    """(region as written, postcode as written): mostly clean, sometimes messy or blank."""
    _, postcode = _city(rng, region)
    roll = rng.random()
    if roll < 0.10:
        return "", postcode  # only the postcode: the region is found from it
    if roll < 0.24:
        spellings = _region_spellings(taxonomy, region)
        return rng.choice(spellings) if spellings else region, postcode
    return region, postcode if rng.random() < 0.85 else ""


def subscribers(
    rng: random.Random, taxonomy: Taxonomy
) -> tuple[Sample, list[tuple[str, str, str, str]]]:
    regions = _weighted_regions(taxonomy)
    used: set[str] = set()
    people: list[tuple[str, str, str, str]] = []  # address, first, last, organisation
    rows: list[list[str]] = []
    for index in range(SUBSCRIBERS_UNIQUE):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        region = taxonomy.regions[index] if index < len(taxonomy.regions) else rng.choice(regions)
        address = _address(rng, first, last, used)
        _, organisation = _organisation(rng) if rng.random() < 0.8 else ("", "")
        region_text, postcode = _subscriber_region(rng, taxonomy, region)
        city = next(c for c, p in CITIES[region] if p == postcode) if postcode else ""
        day = date(YEAR - 1, 1, 1) + timedelta(days=rng.randrange(600))
        people.append((address, first, last, organisation))
        rows.append(
            [address, first, last, organisation, region_text, postcode, city, f"{day:%d/%m/%Y}"]
        )
    for _ in range(SUBSCRIBERS_DUPLICATES):
        source = rows[rng.randrange(SUBSCRIBERS_UNIQUE)]
        duplicate = list(source)
        duplicate[0] = _other_case(source[0])
        rows.insert(rng.randrange(SUBSCRIBERS_UNIQUE // 2, len(rows) + 1), duplicate)
    for index in range(SUBSCRIBERS_INVALID):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        region = rng.choice(regions)
        region_text, postcode = _subscriber_region(rng, taxonomy, region)
        rows.insert(
            rng.randrange(len(rows) + 1),
            [
                _invalid_address(rng, first, last, index),
                first,
                last,
                "",
                region_text,
                postcode,
                "",
                "",
            ],
        )
    data = _csv_bytes(SUBSCRIBER_HEADERS, rows, "utf-8-sig")
    summary = (
        f"subscribers.csv: {len(rows)} rows — {SUBSCRIBERS_UNIQUE} distinct valid addresses, "
        f"{SUBSCRIBERS_DUPLICATES} repeated in another case, {SUBSCRIBERS_INVALID} invalid "
        "(UTF-8 with BOM, semicolons)"
    )
    return Sample("subscribers.csv", data, summary), people


def subscribers_excel(
    rng: random.Random, taxonomy: Taxonomy, known: list[tuple[str, str, str, str]]
) -> Sample:
    """A smaller list kept in Excel by a regional chamber: Windows-1252, other headers."""
    regions = _weighted_regions(taxonomy)
    used = {address for address, *_ in known}
    rows: list[list[str]] = []
    for address, first, last, organisation in rng.sample(known, EXCEL_OVERLAP):
        region = rng.choice(regions)
        written = address.upper() if rng.random() < 0.3 else address
        rows.append([written, first, last, organisation, region, _city(rng, region)[1]])
    for _ in range(EXCEL_NEW):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        region = rng.choice(regions)
        region_text, postcode = _subscriber_region(rng, taxonomy, region)
        _, organisation = _organisation(rng)
        organisation = organisation.replace("'", "’")  # Excel's autocorrect
        rows.append(
            [_address(rng, first, last, used), first, last, organisation, region_text, postcode]
        )
    for index in range(EXCEL_INVALID):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        rows.append([_invalid_address(rng, first, last, 100 + index), first, last, "", "", ""])
    rng.shuffle(rows)
    data = _csv_bytes(EXCEL_HEADERS, rows, "cp1252")
    summary = (
        f"subscribers-excel-1252.csv: {len(rows)} rows — {EXCEL_OVERLAP} already in "
        f"subscribers.csv, {EXCEL_NEW} new, {EXCEL_INVALID} invalid (Windows-1252, semicolons)"
    )
    return Sample("subscribers-excel-1252.csv", data, summary)


# --- events ------------------------------------------------------------------------------------


def _topics(theme: str) -> tuple[str, ...]:
    return TOPICS.get(fold(theme), ("l'économie sociale et solidaire",))


def _event(rng: random.Random, taxonomy: Taxonomy, number: int, region: str, theme: str) -> dict:
    day = date(YEAR, 11, 1) + timedelta(days=rng.randrange(30))
    event_type = rng.choice(TYPES)
    city, postcode = _city(rng, region)
    family, organiser = _organisation(rng)
    topic = rng.choice(_topics(theme))
    title = rng.choice(TITLE_TEMPLATES[event_type]).format(
        topic=topic, org=organiser, city=city, film=rng.choice(FILMS)
    )
    title = _elide(title[0].upper() + title[1:])
    all_day = event_type == "Portes ouvertes" and rng.random() < 0.5
    if all_day:
        start = datetime(day.year, day.month, day.day)
        end: datetime | None = start + timedelta(days=rng.choice((0, 0, 1)))
    else:
        hour, minute = map(int, rng.choice(START_TIMES).split(":"))
        start = datetime(day.year, day.month, day.day, hour, minute)
        end = start + timedelta(minutes=rng.choice((60, 90, 120, 150, 180)))
        if rng.random() < 0.05:
            end = None
        elif rng.random() < 0.04:
            end = start + timedelta(days=rng.choice((1, 2)), hours=2)
    registered = datetime(YEAR, 9, 1, 8) + timedelta(minutes=rng.randrange(60 * 24 * 55))
    co_organisers = [_organisation(rng)[1] for _ in range(rng.choice((0, 0, 1, 1, 2)))]
    source_id = f"M{YEAR % 100}-{number:04d}"
    return {
        "id": source_id,
        "title": title,
        "description": _elide(
            f"{organiser} vous invite à {city} pour parler de {topic}. "
            "Entrée libre, dans le cadre du Mois de l'ESS."
        ),
        "start": start,
        "end": end,
        "all_day": all_day,
        "venue": f"{rng.choice(VENUES)} de {city}" if rng.random() < 0.7 else organiser,
        "address": f"{rng.randrange(1, 120)} {rng.choice(STREETS)}",
        "postcode": postcode,
        "city": city,
        "region": region,
        "type": event_type,
        "theme": theme,
        "publics": rng.sample(PUBLICS, rng.choice((2, 3, 3, 4, 4, 5, 6))),
        "organiser": organiser,
        "family": family,
        "sector": rng.choice(SECTORS),
        "size": rng.choice(SIZES),
        "co_organisers": [name for name in dict.fromkeys(co_organisers) if name != organiser],
        "registered_at": registered,
        "url": f"https://lemois-ess.example.org/manifestations/{source_id.lower()}-{_slug(title)}",
        "image": (
            f"https://lemois-ess.example.org/images/{source_id.lower()}.jpg"
            if rng.random() < 0.4
            else ""
        ),
    }


def _bad_events(good: list[dict]) -> dict[int, dict]:
    """Rows the website lets through and the import must skip, by 1-based position."""
    template = {**good[0], "all_day": False, "start": datetime(YEAR, 11, 11, 18), "end": None}
    return {
        41: {**template, "id": ""},  # no id
        97: {**template, "id": "M26-9001", "title": ""},  # no title
        158: {**template, "id": "M26-9002", "start": "date à confirmer"},  # unparseable
        233: {  # ends before it starts
            **template,
            "id": "M26-9003",
            "end": template["start"] - timedelta(hours=3),
        },
    }


def _messy_region(rng: random.Random, taxonomy: Taxonomy, event: dict) -> str:
    roll = rng.random()
    if roll < 0.04:
        return ""  # found from the postcode
    if roll < 0.10:
        spellings = _region_spellings(taxonomy, event["region"])
        return rng.choice(spellings) if spellings else event["region"]
    return event["region"]


def events(rng: random.Random, taxonomy: Taxonomy) -> list[dict]:
    regions = _weighted_regions(taxonomy)
    records = []
    for index in range(EVENTS_VALID):
        region = taxonomy.regions[index] if index < len(taxonomy.regions) else rng.choice(regions)
        theme = (
            taxonomy.themes[index % len(taxonomy.themes)]
            if index < 30
            else rng.choice(taxonomy.themes)
        )
        records.append(_event(rng, taxonomy, index + 1, region, theme))
        records[-1]["zone"] = taxonomy.zone(region, ZONE)  # the website writes local offsets
    records.sort(key=lambda record: (record["registered_at"], record["id"]))
    for record in records:
        record["region"] = _messy_region(rng, taxonomy, record)
        if rng.random() < 0.05:
            record["theme"] = record["theme"].lower()  # typed by hand
    for position, bad in sorted(_bad_events(records).items()):
        records.insert(position - 1, bad)
    return records


def _iso(value: Any, all_day: bool, zone: ZoneInfo = ZONE) -> Any:
    if not isinstance(value, datetime):
        return value
    if all_day:
        return f"{value:%Y-%m-%d}"
    return value.replace(tzinfo=zone).isoformat()


def _french(value: Any, all_day: bool) -> str:
    if value is None:
        return ""
    if not isinstance(value, datetime):
        return str(value)
    return f"{value:%d/%m/%Y}" if all_day else f"{value:%d/%m/%Y %H:%M}"


def events_json(records: list[dict]) -> Sample:
    items = []
    for record in records:
        items.append(
            {
                "id": record["id"],
                "title": record["title"],
                "description": record["description"],
                "start": _iso(record["start"], record["all_day"], record.get("zone", ZONE)),
                "end": _iso(record["end"], record["all_day"], record.get("zone", ZONE)),
                "venue": record["venue"],
                "address": record["address"],
                "postcode": record["postcode"],
                "city": record["city"],
                "region": record["region"],
                "type": record["type"],
                "theme": record["theme"],
                "publics": record["publics"],
                "organiser": record["organiser"],
                "family": record["family"],
                "sector": record["sector"],
                "size": record["size"],
                "co_organisers": record["co_organisers"],
                "registered_at": _iso(record["registered_at"], False),
                "url": record["url"],
                "image": record["image"],
            }
        )
    document = {"source": "lemois-ess.example.org", "edition": YEAR, "events": items}
    data = (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    return Sample(
        "events.json", data, _events_summary("events.json", records, "JSON, English keys")
    )


def events_csv(records: list[dict]) -> Sample:
    rows = [
        [
            record["id"],
            record["title"],
            record["description"],
            _french(record["start"], record["all_day"]),
            _french(record["end"], record["all_day"]),
            record["venue"],
            record["address"],
            record["postcode"],
            record["city"],
            record["region"],
            record["type"],
            record["theme"],
            ", ".join(record["publics"]),
            record["organiser"],
            record["family"],
            record["sector"],
            record["size"],
            " | ".join(record["co_organisers"]),
            _french(record["registered_at"], False),
            record["url"],
            record["image"],
        ]
        for record in records
    ]
    data = _csv_bytes(EVENT_HEADERS, rows, "utf-8-sig")
    summary = _events_summary("events.csv", records, "semicolons, French headers and dates")
    return Sample("events.csv", data, summary)


def _events_summary(name: str, records: list[dict], how: str) -> str:
    bad = len(records) - EVENTS_VALID
    return f"{name}: {len(records)} events — {EVENTS_VALID} valid, {bad} bad rows to skip ({how})"


# --- all of it ---------------------------------------------------------------------------------


def generate(out: Path) -> list[Sample]:
    """Write every sample file into ``out`` and return what was written."""
    taxonomy = Taxonomy.from_settings()
    rng = random.Random(SEED)
    main, people = subscribers(rng, taxonomy)
    excel = subscribers_excel(rng, taxonomy, people)
    records = events(rng, taxonomy)
    samples = [main, excel, events_json(records), events_csv(records)]
    out.mkdir(parents=True, exist_ok=True)
    for sample in samples:
        (out / sample.name).write_bytes(sample.data)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "samples", help="Folder to write to.")
    args = parser.parse_args()
    for sample in generate(args.out):
        print(f"{args.out / sample.name} ({len(sample.data) // 1024} KiB) {sample.summary}")


if __name__ == "__main__":
    main()
