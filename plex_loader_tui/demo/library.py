"""A deterministic synthetic media library for the demo server.

:meth:`DemoLibrary.generate` builds movies and TV shows (with seasons and
episodes) from a seed and a size. The same seed and size always give the same
library, byte for byte, so tests can assert exact values and request counts.

The library is meant to look like a real one to every stage of the load:

* titles, years, multi-paragraph summaries built from large vocabularies so
  that every summary is about something different (semantic search must be
  able to tell items apart), genres, directors, writers and actors with roles;
* unicode and XML-special characters (``& < > " ' é ü 日本``) in titles,
  summaries and names;
* a share of items with legacy agent guids
  (``com.plexapp.agents.imdb://tt…?lang=en``), a share with no external ids at
  all, a share with no summary, and modern ``plex://movie/<hex>`` guids with
  ``Guid`` children for the rest;
* TMDb and IMDb records for the ids it uses, except a few ids that answer 404.

It can also change after it is served (``touch``/``remove``) so that tests of
incremental re-runs see updated and deleted items. Every read and write goes
through one lock, so the server's threads always see a consistent library.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal

log = logging.getLogger(__name__)

#: TMDb's own genre ids, so the TMDb answers carry realistic ``genres[{id,name}]``.
GENRE_IDS: dict[str, int] = {
    "Action": 28,
    "Adventure": 12,
    "Animation": 16,
    "Comedy": 35,
    "Crime": 80,
    "Documentary": 99,
    "Drama": 18,
    "Family": 10751,
    "Fantasy": 14,
    "History": 36,
    "Horror": 27,
    "Music": 10402,
    "Mystery": 9648,
    "Romance": 10749,
    "Science Fiction": 878,
    "Thriller": 53,
    "War": 10752,
    "Western": 37,
}

# Vocabularies. Each summary draws a person, a profession, a place, an event,
# a genre-specific premise, an object and a theme, so two summaries share at
# most a few of these and read as different stories to an embedding model.
_FIRST = (
    "Ada", "Bruno", "Clara", "Dmitri", "Elena", "Farid", "Greta", "Hiro", "Ines", "Jonah",
    "Kwame", "Lena", "Mateo", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Samir", "Tove",
    "Ulla", "Viktor", "Wen", "Ximena", "Yusuf", "Zoë", "Amélie", "Jürgen", "Søren", "José",
    "Björn", "Chloé", "Renée", "Hana", "Yuki", "Aiko", "Mei", "Tomás", "Łukasz", "Noémie",
    "Declan", "Marisol", "Ingrid", "Kofi", "Leilani", "Otto", "Paloma", "Rafael", "Sigrid", "Teodor",
)
_LAST = (
    "Abara", "Bergström", "Castellanos", "Dubois", "Eriksen", "Fontaine", "García", "Haddad",
    "Ishikawa", "Jovanović", "Kowalski", "Lindqvist", "Moreau", "Nakamura", "O'Connell",
    "Petrov", "Quinlan", "Rossi", "Sørensen", "Tanaka", "Umarov", "Valdés", "Whitfield",
    "Xu", "Yamamoto", "Zimmermann", "Müller", "Novák", "Okafor", "Pellegrini", "Ramírez",
    "Schäfer", "Takahashi", "Villeneuve", "Wójcik", "Achebe", "Brennan", "Cho", "Delacroix",
    "Esposito",
)
_PROFESSIONS = (
    "lighthouse keeper", "forensic accountant", "jazz pianist", "marine biologist",
    "retired boxer", "night-shift nurse", "cartographer", "beekeeper", "sommelier",
    "avalanche forecaster", "puppeteer", "translator of dead languages", "taxi driver",
    "glassblower", "court stenographer", "astronomer", "ferry captain", "pastry chef",
    "museum restorer", "radio DJ", "hotel concierge", "orchid smuggler", "bridge engineer",
    "chess prodigy", "wildfire lookout", "tattoo artist", "violin maker", "undertaker",
    "sheep farmer", "stage magician", "crossword setter", "circus acrobat", "locksmith",
    "submarine cook", "perfumer", "bookbinder", "storm chaser", "ballet teacher",
    "railway signalman", "falconer",
)
_PLACES = (
    "a fishing village on Hokkaidō", "the salt flats of Bolivia", "a Brooklyn bakery",
    "a research station in Antarctica", "the canals of Amsterdam", "a vineyard in Mendoza",
    "a mining town in the Yukon", "the old quarter of Kraków", "a houseboat in Kerala",
    "a ski resort above Zürich", "the favelas of São Paulo", "a lighthouse off Reykjavík",
    "a night market in Taipei", "a monastery in Bhutan", "the suburbs of Lagos",
    "a Scottish island with one pub", "a space elevator in orbit over Kenya",
    "a border town in Sonora", "a jazz club in New Orleans", "the Paris catacombs",
    "a cattle ranch in Montana", "a Venetian glass workshop", "a tea plantation in Darjeeling",
    "a cargo ship crossing the Pacific", "a crumbling palace in Jaipur",
    "a high-rise in Tōkyō (東京)", "a Berlin nightclub", "a coral atoll in Micronesia",
    "a lumber camp in Oregon", "a desert observatory in Chile", "a Moroccan riad in Fès",
    "a frozen lake in Finnish Lapland", "a Greek island ferry port", "a seaside hotel in Brighton",
    "a Mongolian steppe encampment", "an abandoned theme park in Ohio",
)
_EVENTS = (
    "finds a coded letter tucked inside a library book",
    "inherits a clock that runs backwards",
    "witnesses a collision no one else admits happened",
    "receives a postcard from a sister who died ten years ago",
    "wins a lottery ticket that was never purchased",
    "uncovers a ledger linking the town council to a vanished ship",
    "hears a song on the radio that only they seem to remember",
    "wakes up fluent in a language they never studied",
    "is hired to guard an empty warehouse at triple pay",
    "rescues a stray dog wearing a diplomat's collar",
    "discovers a sealed room behind the kitchen pantry",
    "is mistaken for a famous novelist at an awards dinner",
    "finds footprints leading into the sea and none coming back",
    "catches a neighbour burying a suitcase at midnight",
    "is sent a photograph of themself taken tomorrow",
    "loses a bet to a stranger and must repay it with a secret",
    "picks up a hitchhiker who knows every detail of their childhood",
    "agrees to deliver a sealed envelope across three borders",
    "is elected mayor by accident after a clerical error",
    "notices that the stars over the town have rearranged",
)
_PREMISES: dict[str, tuple[str, ...]] = {
    "Action": (
        "A bullet-riddled chase across rooftops turns into a siege at a container port.",
        "Armed mercenaries seize a dam, and only a few hours remain before the valley floods.",
        "An armoured convoy is ambushed in a mountain pass during a blizzard.",
    ),
    "Adventure": (
        "An expedition follows a river no map agrees on into a rainforest.",
        "A hot-air balloon race around the world goes badly off course.",
        "A treasure hunt leads through shipwrecks, jungle temples and a sunken city.",
    ),
    "Animation": (
        "A talking paper lantern and a nervous robot team up to relight a city.",
        "Toys left in an attic organise an escape across a stormy garden.",
    ),
    "Comedy": (
        "A disastrous wedding rehearsal snowballs into a family feud over a stolen goat.",
        "Two rival food-truck owners are forced to share one parking space for a summer.",
        "A botched karaoke night becomes a viral sensation and a political campaign.",
    ),
    "Crime": (
        "A heist crew plans to rob a casino during a citywide blackout.",
        "A detective reopens a cold case involving counterfeit paintings and a drowned collector.",
        "Money laundering through a chain of laundromats draws in an honest cashier.",
    ),
    "Documentary": (
        "Interviews and archive footage trace the rise and fall of a forgotten pop star.",
        "A year in the life of a migrating herd, filmed from drones and hidden cameras.",
    ),
    "Drama": (
        "Estranged siblings return home to sell the family farm and reopen old wounds.",
        "A struggling single parent fights a custody battle while working three jobs.",
        "A choir of prison inmates prepares for a concert that might win them parole.",
    ),
    "Family": (
        "A girl and her grandfather build a raft to sail the length of a river.",
        "A clumsy dragon tries to win the village baking contest.",
    ),
    "Fantasy": (
        "A cursed crown passes from hand to hand, granting wishes at a terrible price.",
        "Witches of rival covens must unite when the moon refuses to rise.",
        "A blacksmith forges a sword that sings whenever a lie is told nearby.",
    ),
    "History": (
        "The court intrigues of an eighteenth-century empire unfold through a royal cook.",
        "Telegraph operators relay secrets during the last weeks of a war.",
    ),
    "Horror": (
        "Something in the well answers back when children whisper into it.",
        "A remote hospital ward keeps admitting a patient who died in 1952.",
        "A haunted cassette tape kills anyone who listens to side B.",
    ),
    "Music": (
        "A garage band enters a battle of the bands with a borrowed drum kit.",
        "An aging opera singer coaches a street rapper for a final performance.",
    ),
    "Mystery": (
        "A locked-room murder at a chess tournament baffles the local police.",
        "Anonymous riddles appear in the classifieds, each predicting a crime.",
        "A missing heiress leaves behind a trail of crossword clues.",
    ),
    "Romance": (
        "Two pen pals fall in love without knowing they live on the same street.",
        "A wedding planner falls for the groom's brother over one chaotic weekend.",
        "Letters delivered fifty years late rekindle a romance between strangers.",
    ),
    "Science Fiction": (
        "A colony ship wakes its crew a century early to face an alien signal.",
        "A scientist clones her memories to train an artificial intelligence.",
        "Time-travel tourism collapses when a visitor changes an election.",
    ),
    "Thriller": (
        "A witness in protection realises the marshal guarding her is the killer.",
        "A hacker races to stop a ransomware attack on a city's hospitals.",
        "A night train becomes a trap when the conductor locks every carriage.",
    ),
    "War": (
        "A bomb-disposal unit clears a minefield so refugees can cross a border.",
        "Submarine crews play a silent game of cat and mouse under the Arctic ice.",
    ),
    "Western": (
        "A bounty hunter escorts a prisoner across the desert while outlaws close in.",
        "A frontier town hires a gunslinger to stop a railroad baron's land grab.",
    ),
}
_OBJECTS = (
    "a brass compass", "a cracked violin", "a jar of sea glass", "a stolen Vermeer",
    "a box of undeveloped film", "a child's drawing of a lighthouse", "a silver pocket watch",
    "a satellite phone", "an heirloom quilt", "a pair of red ice skates", "a typewriter ribbon",
    "a cursed tarot deck", "a vintage motorcycle", "a diary written in cipher", "a key to a bank vault",
    "a recipe for plum dumplings", "a taxidermied owl", "a bottle of 1961 Bordeaux",
    "a broken snow globe", "a reel of 16mm film", "a mixtape labelled ‘do not play’",
    "a handful of meteorite fragments", "a porcelain doll", "a map drawn on a napkin",
)
_THEMES = (
    "It is a story about grief and the stubbornness of hope",
    "Underneath the plot lies a meditation on loyalty and betrayal",
    "The film asks what we owe to the people who raised us",
    "It becomes a portrait of a community learning to forgive",
    "The real subject is memory and how easily it is rewritten",
    "At its heart is an unlikely friendship across generations",
    "It wrestles with ambition, guilt and the price of success",
    "Beneath the jokes it is about loneliness in a crowded city",
    "It explores how greed corrodes even the kindest families",
    "The story turns on courage, cowardice and second chances",
    "It is about the borders between people and how they are crossed",
    "Its quiet theme is the dignity of ordinary work",
)
_ENDINGS = (
    "Told with dry humour and a melancholy score.",
    "Shot in long, patient takes with natural light.",
    "A tense, twist-laden final act leaves nothing as it seemed.",
    "The ending is bittersweet, hopeful and entirely earned.",
    "Expect sharp dialogue, odd detours and a jubilant finale.",
    "Critics called it “a small miracle” & “impossible to forget”.",
    "Its climax unfolds in real time over one sleepless night.",
    "Narrated in flashbacks by the person it all happened to.",
)
_TAGLINES = (
    "Some doors should stay closed.", "Every map lies a little.", "The tide always comes back.",
    "Nobody leaves this town unchanged.", "One night. One chance. No witnesses.",
    "Love is a long-distance sport.", "Trust no one who knows your name.",
    "The past keeps receipts.", "Home is where the secrets are.", "Run faster than the rumour.",
    "Small town. Big lie.", "Heroes are made of ordinary days.", "Listen to the silence.",
    "What the river takes, it returns.", "Fortune favours the foolish.",
)
_ADJ = (
    "Silent", "Crimson", "Last", "Hollow", "Burning", "Frozen", "Hidden", "Midnight",
    "Golden", "Broken", "Distant", "Wild", "Electric", "Forgotten", "Paper", "Iron",
    "Velvet", "Lonely", "Secret", "Bright",
)
_NOUN = (
    "Harbor", "Orchard", "Signal", "Compass", "Garden", "Frontier", "Lantern", "Echo",
    "Summer", "River", "Kingdom", "Ledger", "Horizon", "Carousel", "Tide", "Letter",
    "Station", "Mirror", "Orchestra", "Avalanche", "Parade", "Archive", "Engine", "Meridian",
)
_CITY = (
    "Lisbon", "Kyoto", "Marrakesh", "Oslo", "Havana", "Montréal", "Zürich", "Kraków",
    "Reykjavík", "Valparaíso", "Tbilisi", "Hanoi", "Dublin", "Nairobi",
)
#: Titles that exercise escaping and unicode end to end. The first items of
#: every library use them, so even a small demo library contains them.
_SPECIAL_MOVIE_TITLES = (
    "Café & Croissants",
    "Less <Than> Zero Hour",
    "\"Quoted\" Midnight",
    "L'été à Montréal",
    "日本の夏 (Summer in Japan)",
    "Über Straße & Söhne",
)
_SPECIAL_SHOW_TITLES = ("Tom & Jerry's <Big> Night Shift", "Naïve Señor Müller's Café")
_STUDIOS = (
    "Northlight Pictures", "Blue Heron Films", "Okapi & Sons", "Studio Kōhaku", "Red Ladder Media",
    "Meridian Features", "Lark Street Productions",
)
_NETWORKS = ("HBO", "BBC One", "Canal+", "NHK", "Netflix", "AMC", "ZDF")
_RATINGS_MOVIE = ("G", "PG", "PG-13", "R", "NR")
_RATINGS_TV = ("TV-PG", "TV-14", "TV-MA", "TV-Y7")
_COUNTRIES = ("United States of America", "France", "Japan", "Germany", "United Kingdom", "Brazil", "Norway")

_EPOCH = 1_577_836_800  # 2020-01-01: addedAt values count up from here


@dataclass(frozen=True, slots=True)
class Credit:
    """A credited person in the demo library (``character`` for actors)."""

    name: str
    character: str | None = None


@dataclass(frozen=True, slots=True)
class ExternalRatings:
    """What TMDb and IMDb say about an item beyond what Plex stores."""

    tmdb_overview: str
    vote_average: float
    vote_count: int
    imdb_plot: str
    imdb_rating: float
    imdb_votes: int
    runtime_min: int


def _ids_from_guids(guid: str, guids: tuple[str, ...]) -> dict[str, str]:
    """The external ids a Plex client can see in an item's guid and Guid children.

    Keys: ``imdb``, ``tmdb``, ``tvdb``, and ``show_tmdb`` for a legacy episode
    guid, which names its show rather than the episode.
    """
    ids: dict[str, str] = {}
    for g in guids:
        scheme, _, value = g.partition("://")
        ids[scheme] = value
    if guid.startswith("com.plexapp.agents."):
        agent, _, rest = guid[len("com.plexapp.agents.") :].partition("://")
        value, _, episode_path = rest.split("?", 1)[0].partition("/")
        if episode_path:
            # ``…themoviedb://<show>/<season>/<episode>``: the id is the show's.
            if agent == "themoviedb":
                ids.setdefault("show_tmdb", value)
        elif agent == "imdb":
            ids.setdefault("imdb", value)
        elif agent == "themoviedb":
            ids.setdefault("tmdb", value)
        elif agent == "thetvdb":
            ids.setdefault("tvdb", value)
    return ids


@dataclass(frozen=True, slots=True)
class DemoMovie:
    """One movie. ``imdb_id``/``tmdb_id`` are its true ids (keys of the TMDb/IMDb
    records); ``guid``/``guids`` are what Plex exposes, which may hide them."""

    rating_key: int
    guid: str
    guids: tuple[str, ...]
    title: str
    year: int
    summary: str
    tagline: str
    content_rating: str
    studio: str
    genres: tuple[str, ...]
    directors: tuple[str, ...]
    writers: tuple[str, ...]
    cast: tuple[Credit, ...]
    countries: tuple[str, ...]
    imdb_id: str
    tmdb_id: str
    released: str
    duration_ms: int
    rating: float
    audience_rating: float
    added_at: int
    updated_at: int
    external: ExternalRatings

    kind: Literal["movie"] = "movie"

    @property
    def visible_ids(self) -> dict[str, str]:
        """External ids as a Plex client sees them (``{"imdb": "tt…", "tmdb": "…"}``)."""
        return _ids_from_guids(self.guid, self.guids)


@dataclass(frozen=True, slots=True)
class DemoShow:
    """One TV show (a ``Directory type="show"`` in Plex)."""

    rating_key: int
    guid: str
    guids: tuple[str, ...]
    title: str
    year: int
    summary: str
    tagline: str
    content_rating: str
    studio: str
    genres: tuple[str, ...]
    cast: tuple[Credit, ...]
    creators: tuple[str, ...]
    imdb_id: str
    tmdb_id: str
    tvdb_id: str
    first_aired: str
    added_at: int
    updated_at: int
    external: ExternalRatings

    kind: Literal["show"] = "show"

    @property
    def visible_ids(self) -> dict[str, str]:
        return _ids_from_guids(self.guid, self.guids)


@dataclass(frozen=True, slots=True)
class DemoSeason:
    """One season of a show."""

    rating_key: int
    show_key: int
    index: int
    title: str
    guid: str
    added_at: int
    updated_at: int

    kind: Literal["season"] = "season"


@dataclass(frozen=True, slots=True)
class DemoEpisode:
    """One episode. ``tmdb_id`` is the episode's own TMDb id; TMDb serves it under
    its show's id, season and episode number."""

    rating_key: int
    guid: str
    guids: tuple[str, ...]
    show_key: int
    season_key: int
    season_index: int
    index: int
    title: str
    year: int
    summary: str
    content_rating: str
    directors: tuple[str, ...]
    writers: tuple[str, ...]
    guests: tuple[Credit, ...]
    imdb_id: str
    tmdb_id: str
    tvdb_id: str
    aired: str
    duration_ms: int
    rating: float
    added_at: int
    updated_at: int
    external: ExternalRatings

    kind: Literal["episode"] = "episode"

    @property
    def visible_ids(self) -> dict[str, str]:
        return _ids_from_guids(self.guid, self.guids)


DemoItem = DemoMovie | DemoShow | DemoSeason | DemoEpisode


def _article(noun: str) -> str:
    return "an" if noun[0].lower() in "aeiou" else "a"


class _Gen:
    """Generation helpers around one seeded RNG (kept out of the library's API)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self._titles: set[str] = set()
        self._imdb: set[int] = set()
        self._tmdb: set[int] = set()

    def hexid(self) -> str:
        return f"{self.rng.getrandbits(96):024x}"

    def imdb(self) -> str:
        while True:
            n = self.rng.randrange(100_000, 9_999_999)
            if n not in self._imdb:
                self._imdb.add(n)
                return f"tt{n:07d}"

    def tmdb(self) -> str:
        while True:
            n = self.rng.randrange(100, 999_999)
            if n not in self._tmdb:
                self._tmdb.add(n)
                return str(n)

    def person(self) -> str:
        return f"{self.rng.choice(_FIRST)} {self.rng.choice(_LAST)}"

    def people(self, lo: int, hi: int) -> tuple[str, ...]:
        names: list[str] = []
        for _ in range(self.rng.randint(lo, hi)):
            name = self.person()
            if name not in names:
                names.append(name)
        return tuple(names)

    def cast(self, lo: int, hi: int) -> tuple[Credit, ...]:
        credits: list[Credit] = []
        seen: set[str] = set()
        for _ in range(self.rng.randint(lo, hi)):
            name = self.person()
            if name in seen:
                continue
            seen.add(name)
            character = self.rng.choice(
                (self.person(), f"The {self.rng.choice(_PROFESSIONS).title()}", self.rng.choice(_FIRST))
            )
            credits.append(Credit(name, character))
        return tuple(credits)

    def title(self, special: str | None = None) -> str:
        if special is not None and special not in self._titles:
            self._titles.add(special)
            return special
        for _ in range(50):
            pattern = self.rng.randrange(5)
            if pattern == 0:
                t = f"The {self.rng.choice(_ADJ)} {self.rng.choice(_NOUN)}"
            elif pattern == 1:
                t = f"{self.rng.choice(_NOUN)} of {self.rng.choice(_CITY)}"
            elif pattern == 2:
                t = f"{self.rng.choice(_FIRST)}'s {self.rng.choice(_NOUN)}"
            elif pattern == 3:
                t = f"{self.rng.choice(_ADJ)} {self.rng.choice(_NOUN)}s"
            else:
                t = f"A {self.rng.choice(_NOUN)} in {self.rng.choice(_CITY)}"
            if t not in self._titles:
                self._titles.add(t)
                return t
        # Vocabulary exhausted for this pattern mix: number the sequel.
        base = f"The {self.rng.choice(_ADJ)} {self.rng.choice(_NOUN)}"
        n = 2
        while f"{base} {n}" in self._titles:
            n += 1
        self._titles.add(f"{base} {n}")
        return f"{base} {n}"

    def summary(self, genres: tuple[str, ...], paragraphs: int) -> str:
        r = self.rng
        hero = self.person()
        job = r.choice(_PROFESSIONS)
        first = (
            f"{hero}, {_article(job)} {job} in {r.choice(_PLACES)}, {r.choice(_EVENTS)}. "
            f"{r.choice(_PREMISES[genres[0]])}"
        )
        second = (
            f"Helped by {self.person()} and haunted by {r.choice(_OBJECTS)}, "
            f"{hero.split()[0]} must decide who to trust. {r.choice(_THEMES)}."
        )
        third = f"{r.choice(_ENDINGS)} {r.choice(_PREMISES[r.choice(genres)])}"
        return "\n\n".join((first, second, third)[:paragraphs])

    def external(self, genres: tuple[str, ...], runtime: int) -> ExternalRatings:
        r = self.rng
        overview = (
            f"When {self.person()} {r.choice(_EVENTS)}, nothing in {r.choice(_PLACES)} stays the same. "
            f"{r.choice(_PREMISES[genres[0]])}"
        )
        job = r.choice(_PROFESSIONS)
        plot = f"{_article(job).capitalize()} {job} {r.choice(_EVENTS)} and is drawn into a story of {r.choice(_OBJECTS)}."
        return ExternalRatings(
            tmdb_overview=overview,
            vote_average=round(r.uniform(4.5, 8.9), 1),
            vote_count=r.randrange(20, 25_000),
            imdb_plot=plot,
            imdb_rating=round(r.uniform(4.0, 9.2), 1),
            imdb_votes=r.randrange(50, 900_000),
            runtime_min=runtime,
        )


class DemoLibrary:
    """A synthetic Plex library with matching TMDb and IMDb records.

    Build one with :meth:`generate`. The server reads it through the query
    methods below (each returns a snapshot taken under the lock); tests may
    change it while it is served with :meth:`touch` and :meth:`remove`.
    """

    MOVIE_SECTION = 1
    SHOW_SECTION = 2

    def __init__(
        self,
        movies: Iterable[DemoMovie],
        shows: Iterable[DemoShow],
        seasons: Iterable[DemoSeason],
        episodes: Iterable[DemoEpisode],
        *,
        seed: int = 0,
        tmdb_missing: Iterable[str] = (),
        imdb_missing: Iterable[str] = (),
    ) -> None:
        self.seed = seed
        self._lock = threading.RLock()
        self._movies: dict[int, DemoMovie] = {m.rating_key: m for m in movies}
        self._shows: dict[int, DemoShow] = {s.rating_key: s for s in shows}
        self._seasons: dict[int, DemoSeason] = {s.rating_key: s for s in seasons}
        self._episodes: dict[int, DemoEpisode] = {e.rating_key: e for e in episodes}
        #: TMDb ids (movie or show) and IMDb ids that answer 404 although items use them.
        self.tmdb_missing: frozenset[str] = frozenset(tmdb_missing)
        self.imdb_missing: frozenset[str] = frozenset(imdb_missing)
        self._reindex()

    # ---------------------------------------------------------------- building
    @classmethod
    def generate(cls, seed: int = 7, size: int = 300) -> DemoLibrary:
        """Make a library of ``size`` playable items (about 60% movies, 40% episodes).

        Deterministic: the same ``seed`` and ``size`` give the same library.
        Shares (rounded, at least one each once ``size`` >= 20): ~12% legacy
        agent guids, ~8% without external ids, ~6% without a summary, ~3% of
        TMDb ids and ~3% of IMDb ids that answer 404.
        """
        if size < 0:
            raise ValueError(f"size must be >= 0, got {size}")
        g = _Gen(seed)
        r = g.rng
        n_movies = round(size * 0.6) if size >= 2 else size
        n_episodes = size - n_movies
        next_key = 1001
        tmdb_missing: list[str] = []
        imdb_missing: list[str] = []

        def flavour(i: int) -> str:
            # The first few items cover every case so that small libraries
            # (tests use 20-60 items) still contain each of them.
            forced = {1: "legacy-imdb", 2: "legacy-tmdb", 3: "no-ids", 4: "no-summary", 5: "tmdb-404", 6: "imdb-404"}
            if i in forced:
                return forced[i]
            x = r.random()
            for name, share in (
                ("legacy-imdb", 0.06), ("legacy-tmdb", 0.06), ("no-ids", 0.08),
                ("no-summary", 0.06), ("tmdb-404", 0.03), ("imdb-404", 0.03),
            ):
                if x < share:
                    return name
                x -= share
            return "modern"

        movies: list[DemoMovie] = []
        for i in range(n_movies):
            kind = flavour(i)
            genres = tuple(r.sample(sorted(_PREMISES), r.randint(1, 3)))
            year = r.randint(1950, 2025)
            imdb_id, tmdb_id = g.imdb(), g.tmdb()
            special = _SPECIAL_MOVIE_TITLES[i // 7] if i % 7 == 0 and i // 7 < len(_SPECIAL_MOVIE_TITLES) else None
            title = g.title(special)
            runtime = r.randint(78, 175)
            added = _EPOCH + i * 5400 + r.randrange(3600)
            if kind == "legacy-imdb":
                guid, guids = f"com.plexapp.agents.imdb://{imdb_id}?lang=en", ()
            elif kind == "legacy-tmdb":
                guid, guids = f"com.plexapp.agents.themoviedb://{tmdb_id}?lang=en", ()
            elif kind == "no-ids":
                guid, guids = f"plex://movie/{g.hexid()}", ()
            else:
                guid, guids = f"plex://movie/{g.hexid()}", (f"imdb://{imdb_id}", f"tmdb://{tmdb_id}")
            if kind == "tmdb-404":
                tmdb_missing.append(tmdb_id)
            if kind == "imdb-404":
                imdb_missing.append(imdb_id)
            movies.append(
                DemoMovie(
                    rating_key=next_key,
                    guid=guid,
                    guids=guids,
                    title=title,
                    year=year,
                    summary="" if kind == "no-summary" else g.summary(genres, r.randint(2, 3)),
                    tagline=r.choice(_TAGLINES) if r.random() < 0.8 else "",
                    content_rating=r.choice(_RATINGS_MOVIE),
                    studio=r.choice(_STUDIOS),
                    genres=genres,
                    directors=g.people(1, 2),
                    writers=g.people(1, 3),
                    cast=g.cast(3, 9),
                    countries=(r.choice(_COUNTRIES),),
                    imdb_id=imdb_id,
                    tmdb_id=tmdb_id,
                    released=f"{year}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}",
                    duration_ms=runtime * 60_000,
                    rating=round(r.uniform(3.0, 9.8), 1),
                    audience_rating=round(r.uniform(3.0, 9.8), 1),
                    added_at=added,
                    updated_at=added + r.randrange(0, 86_400 * 30),
                    external=g.external(genres, runtime),
                )
            )
            next_key += 1

        shows: list[DemoShow] = []
        seasons: list[DemoSeason] = []
        episodes: list[DemoEpisode] = []
        show_i = 0
        while len(episodes) < n_episodes:
            kind = flavour(show_i)
            genres = tuple(r.sample(sorted(_PREMISES), r.randint(1, 2)))
            year = r.randint(1985, 2024)
            imdb_id, tmdb_id, tvdb_id = g.imdb(), g.tmdb(), str(r.randrange(70_000, 450_000))
            special = _SPECIAL_SHOW_TITLES[show_i] if show_i < len(_SPECIAL_SHOW_TITLES) else None
            legacy = kind in ("legacy-imdb", "legacy-tmdb")
            no_ids = kind == "no-ids"
            if kind == "tmdb-404":
                tmdb_missing.append(tmdb_id)
            if legacy:
                show_guid, show_guids = f"com.plexapp.agents.themoviedb://{tmdb_id}?lang=en", ()
            elif no_ids:
                show_guid, show_guids = f"plex://show/{g.hexid()}", ()
            else:
                show_guid = f"plex://show/{g.hexid()}"
                show_guids = (f"imdb://{imdb_id}", f"tmdb://{tmdb_id}", f"tvdb://{tvdb_id}")
            show_key = next_key
            next_key += 1
            added = _EPOCH + 86_400 * 40 + show_i * 86_400 + r.randrange(3600)
            show = DemoShow(
                rating_key=show_key,
                guid=show_guid,
                guids=show_guids,
                title=g.title(special),
                year=year,
                summary=g.summary(genres, 2),
                tagline="",
                content_rating=r.choice(_RATINGS_TV),
                studio=r.choice(_NETWORKS),
                genres=genres,
                cast=g.cast(4, 8),
                creators=g.people(1, 2),
                imdb_id=imdb_id,
                tmdb_id=tmdb_id,
                tvdb_id=tvdb_id,
                first_aired=f"{year}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}",
                added_at=added,
                updated_at=added,
                external=g.external(genres, 45),
            )
            shows.append(show)
            for s_index in range(1, r.randint(1, 3) + 1):
                if len(episodes) >= n_episodes:
                    break
                season_key = next_key
                next_key += 1
                seasons.append(
                    DemoSeason(
                        rating_key=season_key,
                        show_key=show_key,
                        index=s_index,
                        title=f"Season {s_index}",
                        guid=f"plex://season/{g.hexid()}",
                        added_at=added,
                        updated_at=added,
                    )
                )
                for e_index in range(1, r.randint(3, 8) + 1):
                    if len(episodes) >= n_episodes:
                        break
                    n = len(episodes)
                    e_kind = "no-summary" if r.random() < 0.06 else ("imdb-404" if r.random() < 0.03 else "ok")
                    ep_imdb, ep_tmdb, ep_tvdb = g.imdb(), str(r.randrange(1_000_000, 5_000_000)), str(
                        r.randrange(1_000_000, 9_000_000)
                    )
                    if e_kind == "imdb-404":
                        imdb_missing.append(ep_imdb)
                    if legacy:
                        ep_guid = f"com.plexapp.agents.themoviedb://{tmdb_id}/{s_index}/{e_index}?lang=en"
                        ep_guids: tuple[str, ...] = ()
                    elif no_ids:
                        ep_guid, ep_guids = f"plex://episode/{g.hexid()}", ()
                    else:
                        ep_guid = f"plex://episode/{g.hexid()}"
                        ep_guids = (f"imdb://{ep_imdb}", f"tmdb://{ep_tmdb}", f"tvdb://{ep_tvdb}")
                    ep_year = min(2025, year + s_index - 1)
                    ep_added = added + n * 1800
                    runtime = r.randint(22, 62)
                    episodes.append(
                        DemoEpisode(
                            rating_key=next_key,
                            guid=ep_guid,
                            guids=ep_guids,
                            show_key=show_key,
                            season_key=season_key,
                            season_index=s_index,
                            index=e_index,
                            title=g.title(),
                            year=ep_year,
                            summary="" if e_kind == "no-summary" else g.summary(genres, r.randint(2, 3)),
                            content_rating=show.content_rating,
                            directors=g.people(1, 1),
                            writers=g.people(1, 2),
                            guests=g.cast(1, 4),
                            imdb_id=ep_imdb,
                            tmdb_id=ep_tmdb,
                            tvdb_id=ep_tvdb,
                            aired=f"{ep_year}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}",
                            duration_ms=runtime * 60_000,
                            rating=round(r.uniform(5.0, 9.6), 1),
                            added_at=ep_added,
                            updated_at=ep_added + r.randrange(0, 86_400),
                            external=g.external(genres, runtime),
                        )
                    )
                    next_key += 1
            show_i += 1
        log.debug("generated demo library seed=%s: %d movies, %d shows, %d episodes",
                  seed, len(movies), len(shows), len(episodes))
        return cls(movies, shows, seasons, episodes, seed=seed,
                   tmdb_missing=tmdb_missing, imdb_missing=imdb_missing)

    def _reindex(self) -> None:
        """Rebuild the lookup tables; call with the lock held after any change."""
        self._movie_list = tuple(self._movies.values())
        self._episode_list = tuple(self._episodes.values())
        self._show_list = tuple(self._shows.values())
        self._by_tmdb_movie = {m.tmdb_id: m for m in self._movie_list}
        self._by_tmdb_show = {s.tmdb_id: s for s in self._show_list}
        self._by_imdb: dict[str, DemoMovie | DemoShow | DemoEpisode] = {}
        for item in (*self._movie_list, *self._show_list, *self._episode_list):
            self._by_imdb[item.imdb_id] = item
        self._episode_by_number = {
            (e.show_key, e.season_index, e.index): e for e in self._episode_list
        }
        # Children by parent key, so listings of big libraries stay linear.
        self._children: dict[int, list[DemoEpisode]] = {}
        for e in self._episode_list:
            self._children.setdefault(e.show_key, []).append(e)
            self._children.setdefault(e.season_key, []).append(e)
        self._seasons_by_show: dict[int, list[DemoSeason]] = {}
        for season in self._seasons.values():
            self._seasons_by_show.setdefault(season.show_key, []).append(season)

    # ----------------------------------------------------------------- queries
    @property
    def lock(self) -> threading.RLock:
        return self._lock

    def movies(self) -> tuple[DemoMovie, ...]:
        """Every movie, in listing order."""
        with self._lock:
            return self._movie_list

    def shows(self) -> tuple[DemoShow, ...]:
        with self._lock:
            return self._show_list

    def episodes(self) -> tuple[DemoEpisode, ...]:
        """Every episode of every show, in listing order (show, season, episode)."""
        with self._lock:
            return self._episode_list

    def seasons_of(self, show_key: int) -> list[DemoSeason]:
        with self._lock:
            return list(self._seasons_by_show.get(show_key, ()))

    def episodes_of(self, key: int) -> list[DemoEpisode]:
        """Episodes of a show or of a season, by its rating key."""
        with self._lock:
            return list(self._children.get(key, ()))

    def get(self, rating_key: int) -> DemoItem | None:
        """Any item (movie, show, season, episode) by rating key."""
        with self._lock:
            return (
                self._movies.get(rating_key)
                or self._episodes.get(rating_key)
                or self._shows.get(rating_key)
                or self._seasons.get(rating_key)
            )

    def show(self, rating_key: int) -> DemoShow | None:
        with self._lock:
            return self._shows.get(rating_key)

    def season(self, rating_key: int) -> DemoSeason | None:
        with self._lock:
            return self._seasons.get(rating_key)

    @property
    def size(self) -> int:
        """Playable items (movies + episodes)."""
        with self._lock:
            return len(self._movies) + len(self._episodes)

    def tmdb_movie(self, tmdb_or_imdb_id: str) -> DemoMovie | None:
        """The movie TMDb knows by this id (TMDb also accepts IMDb ids on ``/movie``)."""
        with self._lock:
            if tmdb_or_imdb_id.startswith("tt"):
                item = self._by_imdb.get(tmdb_or_imdb_id)
                movie = item if isinstance(item, DemoMovie) else None
            else:
                movie = self._by_tmdb_movie.get(tmdb_or_imdb_id)
            if movie is None or movie.tmdb_id in self.tmdb_missing:
                return None
            return movie

    def tmdb_show(self, tmdb_id: str) -> DemoShow | None:
        with self._lock:
            show = self._by_tmdb_show.get(tmdb_id)
            if show is None or show.tmdb_id in self.tmdb_missing:
                return None
            return show

    def tmdb_episode(self, tmdb_show_id: str, season: int, episode: int) -> DemoEpisode | None:
        with self._lock:
            show = self.tmdb_show(tmdb_show_id)
            if show is None:
                return None
            return self._episode_by_number.get((show.rating_key, season, episode))

    def imdb_title(self, imdb_id: str) -> DemoMovie | DemoShow | DemoEpisode | None:
        with self._lock:
            if imdb_id in self.imdb_missing:
                return None
            return self._by_imdb.get(imdb_id)

    # --------------------------------------------------------------- mutations
    def touch(self, rating_keys: Iterable[int], *, summary: str | None = None) -> None:
        """Change the summary of these movies/episodes and bump their ``updatedAt``.

        Without ``summary`` the old one gets a marked revision, so the content
        (and its hash downstream) really changes.
        """
        with self._lock:
            now = int(time.time())
            for key in rating_keys:
                table: dict[int, DemoMovie] | dict[int, DemoEpisode]
                if key in self._movies:
                    table = self._movies
                elif key in self._episodes:
                    table = self._episodes
                else:
                    raise KeyError(f"no movie or episode with rating key {key}")
                old = table[key]
                new_summary = summary if summary is not None else (old.summary + "\n\n(Revised cut.)").lstrip()
                table[key] = replace(old, summary=new_summary, updated_at=max(old.updated_at + 1, now))  # type: ignore[index,arg-type]
            self._reindex()

    def remove(self, rating_keys: Iterable[int]) -> None:
        """Delete movies, episodes, seasons or whole shows (with their episodes)."""
        with self._lock:
            for key in list(rating_keys):
                if key in self._movies:
                    del self._movies[key]
                elif key in self._episodes:
                    del self._episodes[key]
                elif key in self._seasons:
                    del self._seasons[key]
                    for e in [e for e in self._episodes.values() if e.season_key == key]:
                        del self._episodes[e.rating_key]
                elif key in self._shows:
                    del self._shows[key]
                    for s in [s for s in self._seasons.values() if s.show_key == key]:
                        del self._seasons[s.rating_key]
                    for e in [e for e in self._episodes.values() if e.show_key == key]:
                        del self._episodes[e.rating_key]
                else:
                    raise KeyError(f"no item with rating key {key}")
            self._reindex()
