"""Shared helpers for the embedding, Qdrant sink and search tests.

The real bundled models take about a second to load, so they are loaded once
per test process (``bundled_models``) and shared by every test that needs
them. ``catalogue`` builds ~50 distinct, realistic movies and episodes.
"""

from __future__ import annotations

import functools

from plex_loader_tui.embed.models import Models, ModelSettings, load_models
from plex_loader_tui.models import EnrichedItem, ImdbInfo, Person, SourceItem, TmdbInfo


@functools.lru_cache(maxsize=1)
def bundled_models() -> Models:
    """The default (bundled, offline) dense + sparse models, loaded once per process."""
    return load_models(ModelSettings(onnx_threads=1))


_HEROES = [
    ("a retired lighthouse keeper", "Cornwall", "a smuggling ring hiding contraband in shipwrecks"),
    ("a teenage chess prodigy", "Soviet Leningrad", "a KGB plot to rig the national championship"),
    ("a widowed beekeeper", "rural Vermont", "a pesticide company poisoning the valley's hives"),
    ("an astronaut stranded on Mars", "the red desert", "a dwindling supply of potatoes and oxygen"),
    ("a sushi chef", "Tokyo's Tsukiji market", "a rival who steals his late master's recipes"),
    ("a jazz trumpeter", "1950s New Orleans", "a mob debt that threatens his band"),
    ("a marine biologist", "the Great Barrier Reef", "a giant squid sinking research vessels"),
    ("a circus acrobat", "Weimar Berlin", "the murder of the ringmaster during a blackout"),
    ("a young witch", "a seaside bakery town", "a broom that no longer flies"),
    ("a forensic accountant", "Wall Street", "a pension fund fraud hidden in spreadsheets"),
    ("a sheepdog trainer", "the Scottish Highlands", "a wolf pack returning after a century"),
    ("a hacker collective", "near-future Seoul", "an artificial intelligence rewriting elections"),
    ("a nun", "an Alpine convent", "a family of seven children who need a governess"),
    ("a long-haul trucker", "the Australian outback", "a serial killer hitchhiking along the highway"),
    ("a ballet dancer", "the Paris Opera", "a rival dancer and creeping madness before opening night"),
    ("a Viking shieldmaiden", "ninth-century Norway", "a raid on a Northumbrian monastery"),
    ("a sommelier", "Burgundy vineyards", "counterfeit vintage wine sold at auction"),
    ("a lonely robot", "an abandoned garbage-covered Earth", "a plant seedling that could save humanity"),
    ("a cartographer", "the Amazon rainforest", "a lost city of gold and a treacherous guide"),
    ("a stand-up comedian", "1980s Manhattan clubs", "stage fright and a cocaine habit"),
    ("a submarine captain", "the Cold War Arctic", "a nuclear reactor leak under the ice"),
    ("a mail carrier", "a snowbound Alaskan town", "letters that predict deaths before they happen"),
    ("a sumo wrestler", "Osaka", "a match-fixing scandal in the grand tournament"),
    ("a falconer", "the deserts of Abu Dhabi", "poachers trapping rare peregrines"),
    ("a clockmaker", "Victorian London", "a mechanical heart that keeps a girl alive"),
    ("a rodeo clown", "Texas", "a bull rider with a death wish"),
    ("a tattoo artist", "Berlin nightclubs", "a client whose tattoos map a buried treasure"),
    ("a deep-sea welder", "a North Sea oil rig", "a storm and a failing diving bell"),
    ("a librarian", "Alexandria in antiquity", "the fire that threatens every scroll"),
    ("a beat cop", "Hong Kong's Kowloon Walled City", "triads running an opium den"),
    ("a figure skater", "the Winter Olympics", "a kneecapping attack on her rival"),
    ("a mountain guide", "the Himalayas", "an avalanche that traps a film crew on Everest"),
    ("a toy maker", "the North Pole", "an elf strike on Christmas Eve"),
    ("a paleontologist", "a remote island park", "cloned dinosaurs escaping their paddocks"),
    ("a wedding planner", "the Amalfi Coast", "a bride who vanishes on the morning of the ceremony"),
    ("a cryptographer", "Bletchley Park", "breaking the Enigma cipher during the war"),
    ("a puppeteer", "Prague", "marionettes that move on their own at night"),
    ("a race car driver", "Le Mans", "a rivalry between Ford and Ferrari"),
    ("a speechwriter", "the White House", "a president hiding a terminal illness"),
    ("a street magician", "Las Vegas", "a casino heist disguised as an illusion"),
    ("a lumberjack", "British Columbia", "a forest fire racing toward his logging camp"),
    ("a translator", "the United Nations", "an overheard assassination plot in a rare dialect"),
    ("a perfumer", "eighteenth-century Grasse", "an obsession with capturing human scent"),
]

_EPISODES = [
    ("Harbor Lights", 1, 1, "The Pilot", "a fishing town's new harbor master finds a body tangled in the nets"),
    ("Harbor Lights", 1, 2, "Low Tide", "the harbor master suspects the cannery owner of dumping waste at night"),
    ("Harbor Lights", 2, 4, "Fog Bank", "a ferry goes missing in dense fog with the mayor aboard"),
    ("Code Blue", 1, 1, "First Shift", "an intern in an overcrowded emergency room loses her first patient"),
    ("Code Blue", 1, 3, "Triage", "a bus crash floods the hospital with victims during a blackout"),
    ("Code Blue", 3, 7, "Quarantine", "an unknown fever locks the whole ward down for forty-eight hours"),
    ("Starfall Academy", 2, 5, "The Exam", "cadets pilot starfighters through an asteroid field for their finals"),
]


def catalogue() -> list[EnrichedItem]:
    """About fifty distinct items (movies and episodes) with plausible metadata."""
    items: list[EnrichedItem] = []
    for i, (hero, place, trouble) in enumerate(_HEROES):
        summary = (
            f"In {place}, {hero} stumbles onto {trouble}. "
            f"With time running out, {hero.split(' ', 1)[1]} must decide who to trust "
            "before everything they love is lost."
        )
        src = SourceItem(
            server_id="srv1",
            rating_key=str(1000 + i),
            guid=f"plex://movie/5d77{i:08x}",
            type="movie",
            title=f"{place.split()[-1].title()} {['Nights', 'Secrets', 'Rising', 'Falls'][i % 4]}",
            library="Movies",
            year=1970 + i,
            summary=summary,
            genres=(["Drama", "Thriller", "Adventure", "Comedy"][i % 4],),
            directors=(f"Director {i}",),
            actors=(Person(f"Actor {i}A", "Lead"), Person(f"Actor {i}B", "Support")),
            imdb_id=f"tt{1000000 + i}",
            tmdb_id=str(5000 + i),
            updated_at=1_700_000_000 + i,
        )
        items.append(
            EnrichedItem(
                source=src,
                tmdb=TmdbInfo(tmdb_id=str(5000 + i), overview=summary, vote_average=7.0),
                imdb=ImdbInfo(imdb_id=f"tt{1000000 + i}", rating=7.5),
            )
        )
    for j, (show, season, episode, title, plot) in enumerate(_EPISODES):
        src = SourceItem(
            server_id="srv1",
            rating_key=str(9000 + j),
            guid=f"plex://episode/6a{j:08x}",
            type="episode",
            title=title,
            library="TV Shows",
            year=2015 + season,
            summary=plot[0].upper() + plot[1:] + ".",
            genres=("Drama",),
            show_title=show,
            season_number=season,
            episode_number=episode,
            tvdb_id=str(70000 + j),
        )
        items.append(EnrichedItem(source=src))
    return items
