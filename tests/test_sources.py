"""The shipped data states each source document's key facts, in that document's own named graph.

Every check is a SPARQL query over the real loaded dataset (default graph = union of the named graphs).
``GRAPH src:<slug> { ... }`` checks that a fact comes from that document and not only from another one;
where sources disagree (LUPEX launch date and status, what the ESA-JAXA document is called) each claim
must sit in its own source's graph, as a direct triple and as an ekg:Claim carrying its qualifier.
docs/source-audit.md maps every sentence of the documents to the triples checked here; the regression tests
at the end pin the wrong triples that issue 9 found, each named after its problem.
"""

from __future__ import annotations

import pytest
from rdflib import Literal, URIRef

from explore_kg.loading import load
from explore_kg.namespaces import EKG, PREFIXES, SOURCE
from explore_kg.reasoning import reason

PROLOGUE = "\n".join(f"PREFIX {prefix}: <{ns}>" for prefix, ns in PREFIXES.items()) + "\n" + """
PREFIX claim: <https://w3id.org/explore-kg/id/claim/>
PREFIX precision: <https://w3id.org/explore-kg/vocab/date-precision/>
PREFIX basis: <https://w3id.org/explore-kg/vocab/basis/>
"""

SOURCES = {
    "jaxa-international-space-exploration": "sourcekind:agency-web-page",
    "jaxa-mmx-international-collaboration": "sourcekind:agency-web-page",
    "spacenews-esa-jaxa-joint-statement": "sourcekind:news-article",
    "esa-jaxa-cooperation-news": "sourcekind:news-article",
    "lupex-mission-overview": "sourcekind:reference-article",
    "explore-kg-curation": "sourcekind:editorial-curation",
}


@pytest.fixture(scope="module")
def ds():
    return load().to_dataset()


def ask(ds, body: str) -> bool:
    return bool(ds.query(PROLOGUE + "ASK {\n" + body + "\n}").askAnswer)


def select(ds, query: str) -> list[tuple]:
    return [tuple(row) for row in ds.query(PROLOGUE + query)]


def assert_in_source(ds, slug: str, pattern: str) -> None:
    """The triple pattern holds inside the named graph of source ``slug``."""
    assert ask(ds, f"GRAPH src:{slug} {{\n{pattern}\n}}"), f"not stated in {slug}:\n{pattern}"


# --- every source document -----------------------------------------------------------------------

@pytest.mark.parametrize("slug,kind", sorted(SOURCES.items()))
def test_each_source_document_describes_itself_in_its_own_graph(ds, slug, kind):
    assert ask(ds, f"""
        GRAPH src:{slug} {{
            src:{slug} a ekg:SourceDocument ; dcterms:title ?title ; ekg:sourceKind {kind} ; dcterms:language "en" ;
                rdfs:comment ?what .
        }}
    """)
    # no stored text shows an address: no document claims one
    assert not ask(ds, f"src:{slug} schema:url ?url")
    # the loader records provenance: every entity of the graph is ekg:statedIn this source
    entities = select(ds, f"SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE {{ GRAPH src:{slug} {{ ?e ekg:statedIn src:{slug} }} }}")
    assert int(entities[0][0]) >= 10


def test_there_is_exactly_one_graph_per_shipped_source(ds):
    graphs = {str(g) for (g,) in select(ds, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?g a ekg:SourceDocument } }")}
    assert graphs == {str(SOURCE[slug]) for slug in SOURCES}


def test_the_same_entity_keeps_one_iri_across_sources(ds):
    documents = {str(src) for (src,) in select(ds, "SELECT ?src WHERE { agency:jaxa ekg:statedIn ?src }")}
    assert documents >= {str(SOURCE[slug]) for slug in SOURCES if slug != "explore-kg-curation"}
    assert ask(ds, """
        GRAPH src:jaxa-international-space-exploration { mission:lupex ekg:acronym "LUPEX" }
        GRAPH src:lupex-mission-overview { mission:lupex ekg:acronym "LUPEX" }
        GRAPH src:spacenews-esa-jaxa-joint-statement { mission:lupex ekg:acronym "LUPEX" }
        GRAPH src:esa-jaxa-cooperation-news { mission:lupex skos:altLabel "lunar polar exploration mission"@en }
    """)


# --- 000: JAXA "About International Space Exploration" ----------------------------------------------

def test_jaxa_exploration_page(ds):
    slug = "jaxa-international-space-exploration"
    assert_in_source(ds, slug, """
        organisation:jsec a ekg:OrganisationalUnit ; ekg:acronym "JSEC" ; ekg:parentOrganisation agency:jaxa ;
            rdfs:label "JAXA Space Exploration Center"@en .
        spacecraft:kibo a ekg:Module ; ekg:country country:japan ; ekg:achievementField area:life-science .
        programme:iss ekg:spacecraft spacecraft:iss .
        spacecraft:iss ekg:missionStatus status:built-in-use .
        event:iss-completion ekg:isAbout spacecraft:iss ; ekg:dateNotGiven true .
    """)
    assert_in_source(ds, slug, """
        event:isef2 a ekg:Forum ; ekg:acronym "ISEF2" ; ekg:date "2018-03-03"^^xsd:date ;
            ekg:host organisation:mext ; ekg:participantCountAbove 40 ; ekg:outcome agreement:tokyo-principles .
        organisation:mext rdfs:label "Ministry of Education, Culture, Sports, Science and Technology"@en .
        agreement:tokyo-principles ekg:agreementType agreementtype:declaration ; ekg:declaredAt event:isef2 ;
            rdfs:label "Tokyo Principles for International Space Exploration"@en .
    """)
    assert_in_source(ds, slug, """
        mission:slim ekg:acronym "SLIM" ; ekg:usesDataFrom mission:selene ; ekg:demonstrates technology:precision-landing ;
            ekg:missionStatus status:landed .
        mission:selene skos:altLabel "Kaguya"@en .
        contribution:gateway-jaxa-participation ekg:contributesTo programme:gateway ;
            ekg:usesTechnologyFrom programme:iss .
        programme:gateway ekg:participant country:japan ; ekg:spacecraft spacecraft:gateway .
    """)
    assert_in_source(ds, slug, """
        mission:mmx ekg:leadAgency agency:jaxa ; ekg:target body:phobos ;
            ekg:plannedLaunchDate "2026"^^ekg:japaneseFiscalYear ; ekg:missionStatus status:under-development ;
            ekg:returnsSamplesFrom body:phobos ; ekg:objective ?o .
        ?o ekg:target body:phobos .
        body:phobos ekg:satelliteOf body:mars .
        mission:lupex ekg:objective/ekg:target place:lunar-polar-region .
        mission:jaxa-lunar-sample-return ekg:missionStatus status:concept ; ekg:returnsSamplesFrom body:moon .
    """)


# --- 001: MMX international collaboration chronology -------------------------------------------------

def test_mmx_collaboration_chronology(ds):
    slug = "jaxa-mmx-international-collaboration"
    assert_in_source(ds, slug, """
        agreement:mmx-cnes-implementation-agreement-2017 ekg:agreementType agreementtype:implementation-agreement ;
            ekg:party agency:jaxa, agency:cnes ; ekg:signingDate "2017-04-10"^^xsd:date ;
            ekg:isAbout mission:mmx ; ekg:declaredAt ?ceremony .
        ?ceremony a ekg:SigningCeremony ; ekg:date "2017-04-10"^^xsd:date .
        agency:cnes ekg:acronym "CNES" ; ekg:country country:france .
    """)
    assert_in_source(ds, slug, """
        event:planetary-protection-tutorial-2017 ekg:startDate "2017-05-11"^^xsd:date ;
            ekg:endDate "2017-05-12"^^xsd:date ; ekg:location place:isas-campus ; ekg:participant organisation:pposs ;
            ekg:cooperationArea area:planetary-protection .
        organisation:pposs ekg:acronym "PPOSS" .
        event:jpgu-panel-discussion-2017 a ekg:PanelDiscussion ; ekg:host organisation:jpgu ;
            ekg:startDate "2017-05-20"^^xsd:date ; ekg:endDate "2017-05-24"^^xsd:date .
        organisation:jpgu ekg:acronym "JpGU" ; rdfs:label "Japan Earth and Planetary Science Association"@en .
    """)
    assert_in_source(ds, slug, """
        event:macromega-cnes-visit-2017 ekg:date "2017-05"^^xsd:gYearMonth ; ekg:host agency:cnes ;
            ekg:participant ?professor ; ekg:isAbout instrument:macromega .
        ?professor rdfs:label "Bibling"@en ; skos:altLabel "Professor Bibling"@en .
        ?position ekg:holder ?professor ; ekg:role role:professor ; ekg:inOrganisation organisation:macromega-french-team .
    """)
    assert_in_source(ds, slug, """
        event:mmx-hbr-sampler-visit-2017 ekg:startDate "2017-08-16"^^xsd:date ; ekg:endDate "2017-08-17"^^xsd:date ;
            ekg:participant organisation:honeybee-robotics ; ekg:isAbout instrument:mmx-sampler .
        organisation:honeybee-robotics ekg:acronym "HBR" ; ekg:headquarters place:california .
        event:mmx-hbr-joint-sampler-studies ekg:startDate "2016"^^xsd:gYear .
        event:mmx-tenq-talk-2017 ekg:date "2017-09-06"^^xsd:date ; ekg:location place:tenq ;
            ekg:participantsFrom country:united-states, country:france, country:germany .
        event:mmx-cnes-joint-review-2017 a ekg:Review ; ekg:date "2017-10-30"^^xsd:date ; ekg:location country:france .
    """)
    assert_in_source(ds, slug, """
        event:megane-team-selection-2017 ekg:date "2017-11-17"^^xsd:date ; ekg:participant agency:nasa ;
            ekg:outcome organisation:megane-team ; ekg:isAbout instrument:megane .
        instrument:megane ekg:developer organisation:megane-developers .
        organisation:megane-developers ekg:country country:japan, country:united-states .
        instrument:megane ekg:acronym "MEGANE", "GRNS" ; rdfs:label "Mars-moon Exploration with Gamma rays and Neutrons"@en .
        ?c ekg:contributor agency:nasa ; ekg:contributesTo mission:mmx ; ekg:providedItem instrument:megane ;
            ekg:contributionRole contribrole:instrument .
    """)
    dated = select(ds, f"""SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE {{
        GRAPH src:{slug} {{ ?e a ?cls . {{ ?e ekg:date ?d }} UNION {{ ?e ekg:startDate ?d }} }}
        ?cls rdfs:subClassOf* ekg:Event }}""")
    assert int(dated[0][0]) == 9  # the eight dated items of the chronology plus the 2016 joint studies


# --- 002: SpaceNews article on the ESA-JAXA joint statement ------------------------------------------

def test_spacenews_joint_statement_article(ds):
    slug = "spacenews-esa-jaxa-joint-statement"
    assert_in_source(ds, slug, f"""
        src:{slug} schema:locationCreated place:bremen .
        person:andrew-jones ekg:basedIn place:helsinki ; ekg:wroteFor organisation:new-scientist .
        place:helsinki ekg:country country:finland .
        ?p ekg:holder person:andrew-jones ; ekg:inOrganisation organisation:spacenews ; ekg:role role:reporter .
    """)
    assert_in_source(ds, slug, """
        agreement:esa-jaxa-joint-statement-2024 ekg:agreementType agreementtype:joint-statement ;
            ekg:signingPlace place:tsukuba ;
            ekg:signatory person:hiroshi-yamakawa, person:josef-aschbacher ; ekg:party agency:esa, agency:jaxa ;
            ekg:cooperationArea area:planetary-defence, area:earth-observation, area:post-iss-leo,
                area:space-science, area:mars-exploration .
        ?president ekg:holder person:hiroshi-yamakawa ; ekg:role role:president ; ekg:inOrganisation agency:jaxa .
        ?dg ekg:holder person:josef-aschbacher ; ekg:role role:director-general ; ekg:inOrganisation agency:esa .
        programme:esa-jaxa-next-big-cooperations rdfs:label "Next Big Cooperations"@en .
    """)
    assert_in_source(ds, slug, """
        mission:ramses ekg:acronym "RAMSES" ; ekg:leadAgency agency:esa ; ekg:target body:apophis ;
            ekg:approvalExpectedAt ?ministerial ; ekg:missionStatus status:pending-approval .
        ?ministerial ekg:plannedDate "2025"^^xsd:gYear ; ekg:claim ?late .
        ?late ekg:claimProperty ekg:plannedDate ; ekg:claimValue "2025"^^xsd:gYear ; ekg:qualifier datequal:late .
        event:apophis-close-approach-2029 ekg:plannedDate "2029"^^xsd:gYear ; ekg:isAbout body:apophis, body:earth .
        objective:ramses-study-apophis ekg:mentions event:apophis-close-approach-2029 .
        mission:mars-small-landers-2030s ekg:timeframe "2030s" ; ekg:usesTechnology technology:electric-propulsion .
        mission:m-matisse ekg:missionStatus status:candidate . mission:plasma-observatory ekg:missionStatus status:candidate .
        mission:athena ekg:acronym "Athena" ; ekg:leadAgency agency:esa .
        mission:bepicolombo ekg:target body:mercury .
        mission:earthcare ekg:objective/ekg:cooperationArea area:climate-change ; ekg:missionStatus status:in-operation .
        organisation:ispace ekg:collaboratesWith agency:esa, agency:jaxa .
        programme:iss ekg:spacecraft spacecraft:iss ;
            ekg:participant organisation:esa-astronauts, organisation:jaxa-astronauts .
        organisation:esa-astronauts ekg:parentOrganisation agency:esa ; ekg:collaboratesWith organisation:jaxa-astronauts .
        organisation:jaxa-astronauts ekg:parentOrganisation agency:jaxa .
    """)
    assert_in_source(ds, slug, """
        ?suzuki ekg:holder person:koichi-suzuki ; ekg:role role:deputy-director ; ekg:inOrganisation agency:jaxa ;
            rdfs:label "JAXA deputy director for safety and mission assurance"@en .
        ?talk ekg:speaker person:koichi-suzuki ; ekg:location place:bremen ;
            ekg:partOf event:space-tech-expo-europe-2024 ; ekg:isAbout mission:adras-j .
        mission:adras-j ekg:leadAgency organisation:astroscale ; ekg:supportedBy programme:crd2 .
        mission:slim ekg:missionStatus status:landed .
        programme:crd2 rdfs:label "Commercial Removal of Debris Demonstration"@en .
        ?ceo ekg:holder person:takeshi-hakamada ; ekg:role role:ceo ; ekg:inOrganisation organisation:ispace .
        ?founder ekg:holder person:takeshi-hakamada ; ekg:role role:founder ; ekg:inOrganisation organisation:ispace .
        mission:lupex ekg:participant agency:isro ; ekg:target place:lunar-south-polar-region .
    """)


# --- 003: space-news item on the ESA-JAXA agreement ---------------------------------------------------

def test_space_news_item_on_esa_jaxa_agreement(ds):
    slug = "esa-jaxa-cooperation-news"
    roles = {str(r) for (r,) in select(ds, f"""SELECT ?role WHERE {{ GRAPH src:{slug} {{
        ?c ekg:contributor agency:jaxa ; ekg:contributesTo mission:ramses ; ekg:contributionRole ?role ;
           ekg:commitmentStatus commitment:possible }} }}""")}
    prefix = str(PREFIXES["contribrole"])
    assert roles == {prefix + "thermal-infrared-imaging", prefix + "solar-array-technology", prefix + "launch-services"}
    assert_in_source(ds, slug, """
        mission:ramses skos:altLabel "Ramses"@en .
        mission:bepicolombo ekg:missionStatus status:in-operation .
        programme:iss ekg:participant organisation:esa-astronauts, organisation:jaxa-astronauts .
        mission:athena ekg:plannedLaunchDate "2037"^^xsd:gYear .
        mission:litebird skos:altLabel "LiteBird"@en ; ekg:leadAgency agency:jaxa .
        spacecraft:argonaut a ekg:Lander ; ekg:developer agency:esa ; ekg:partOf programme:artemis .
        spacecraft:pressurized-lunar-rover ekg:developer agency:jaxa .
        programme:moonlight ekg:spacecraft ?network . ?network a ekg:SatelliteNetwork .
        agreement:esa-crossu-letter-of-intent ekg:agreementType agreementtype:letter-of-intent ;
            ekg:party agency:esa, organisation:crossu .
        ?opening ekg:partOf event:nihonbashi-space-week-2024 ; ekg:participant agency:esa ; ekg:dateNotGiven true .
        agreement:esa-crossu-letter-of-intent ekg:dateNotGiven true .
        agreement:esa-jaxa-joint-statement-2024 ekg:cooperationArea area:commercial-leo, area:climate-change .
    """)


def test_the_two_news_sources_name_the_esa_jaxa_document_differently(ds):
    rows = select(ds, """SELECT ?g ?type WHERE { GRAPH ?g { agreement:esa-jaxa-joint-statement-2024 ekg:agreementType ?type } }""")
    assert {(str(g).rsplit("/", 1)[-1], str(t).rsplit("/", 1)[-1]) for g, t in rows} == {
        ("spacenews-esa-jaxa-joint-statement", "joint-statement"),
        ("esa-jaxa-cooperation-news", "cooperation-agreement"),
    }
    # each kind is also a claim of its own document, so the disagreement survives a flat export
    claims = select(ds, """SELECT ?g ?value WHERE { GRAPH ?g { agreement:esa-jaxa-joint-statement-2024 ekg:claim ?c .
        ?c a ekg:Claim ; ekg:claimProperty ekg:agreementType ; ekg:claimValue ?value } }""")
    assert {(str(g).rsplit("/", 1)[-1], str(v).rsplit("/", 1)[-1]) for g, v in claims} == {
        ("spacenews-esa-jaxa-joint-statement", "joint-statement"),
        ("esa-jaxa-cooperation-news", "cooperation-agreement"),
    }


# --- 004: LUPEX mission overview ---------------------------------------------------------------------

def test_lupex_overview(ds):
    slug = "lupex-mission-overview"
    assert_in_source(ds, slug, """
        mission:lupex ekg:leadAgency agency:isro, agency:jaxa ; ekg:launchVehicle vehicle:h3 ;
            ekg:spacecraft spacecraft:lupex-rover, spacecraft:lupex-lander ;
            ekg:demonstrates technology:moonlit-night-survival, technology:vehicle-transport .
        ?launcher ekg:contributor agency:jaxa ; ekg:providedItem vehicle:h3 ; ekg:commitmentStatus commitment:committed .
        ?rover ekg:contributor agency:jaxa ; ekg:contributionRole contribrole:rover ; ekg:commitmentStatus commitment:committed .
        ?lander ekg:contributor agency:isro ; ekg:contributionRole contribrole:lander ; ekg:commitmentStatus commitment:possible .
        ?nasa ekg:contributor agency:nasa ; ekg:contributesTo mission:lupex ; ekg:commitmentStatus commitment:under-discussion .
    """)
    assert_in_source(ds, slug, """
        ?ia ekg:isAbout mission:lupex ; ekg:agreementType agreementtype:implementation-agreement ;
            ekg:signingDate "2017-12"^^xsd:gYearMonth ; ekg:party agency:isro, agency:jaxa .
        ?jmr a ekg:Review ; ekg:date "2018"^^xsd:gYear ; ekg:participant agency:isro .
        ?ppr a ekg:Review ; ekg:date "2019"^^xsd:gYear ; ekg:host agency:jaxa ; ekg:claim ?endOf .
        ?endOf ekg:claimProperty ekg:date ; ekg:claimValue "2019"^^xsd:gYear ; ekg:qualifier datequal:end-of .
        ?srr a ekg:Review ; ekg:date "2021"^^xsd:gYear ; ekg:claim ?early .
        ?early ekg:claimProperty ekg:date ; ekg:claimValue "2021"^^xsd:gYear ; ekg:qualifier datequal:early .
        ?crash ekg:date "2019"^^xsd:gYear ; ekg:isAbout spacecraft:chandrayaan-2-lander .
        spacecraft:chandrayaan-2-lander ekg:missionStatus status:crashed .
        mission:chandrayaan-3 ekg:precursorOf mission:lupex ; ekg:motivatedBy ?crash ;
            ekg:demonstrates technology:lupex-landing-capability .
        mission:lupex ekg:usesTechnology technology:lupex-landing-capability .
    """)
    lander = select(ds, "SELECT ?kg WHERE { GRAPH src:lupex-mission-overview { spacecraft:lupex-lander ekg:minimumPayloadMassKg ?kg } }")
    depth = select(ds, "SELECT ?m WHERE { GRAPH src:lupex-mission-overview { ?s a ekg:Sampler ; ekg:samplingDepthM ?m } }")
    assert [float(v.toPython()) for (v,) in lander] == [350.0]
    assert [float(v.toPython()) for (v,) in depth] == [1.5]
    assert_in_source(ds, slug, """
        instrument:lupex-navigation-equipment ekg:usesTechnologyFrom mission:slim .
        spacecraft:lupex-rover ekg:hostsInstrument ?sampler . ?sampler a ekg:Sampler .
        spacecraft:lupex-rover ekg:hostsInstrument instrument:lupex-rover-jaxa-equipment,
            instrument:lupex-rover-isro-equipment .
        ?jaxaKit ekg:contributor agency:jaxa ; ekg:providedItem instrument:lupex-rover-jaxa-equipment .
        ?isroKit ekg:contributor agency:isro ; ekg:providedItem instrument:lupex-rover-isro-equipment .
    """)


def test_both_lupex_launch_claims_are_kept_each_in_its_own_source(ds):
    rows = select(ds, "SELECT ?g ?date WHERE { GRAPH ?g { mission:lupex ekg:plannedLaunchDate ?date } }")
    claims = {str(g).rsplit("/", 1)[-1]: d for g, d in rows}
    assert claims == {
        "jaxa-international-space-exploration": Literal("2025", datatype=EKG.japaneseFiscalYear),
        "lupex-mission-overview": Literal("2024", datatype=URIRef(PREFIXES["xsd"] + "gYear")),
    }
    statuses = select(ds, "SELECT ?g ?s WHERE { GRAPH ?g { mission:lupex ekg:missionStatus ?s } }")
    assert {(str(g).rsplit("/", 1)[-1], str(s).rsplit("/", 1)[-1]) for g, s in statuses} == {
        ("jaxa-international-space-exploration", "under-development"),
        ("lupex-mission-overview", "planning"),
    }
    # the qualifier belongs to the value: each date is also a claim in its document, with its qualifier
    launch = select(ds, """SELECT ?g ?value ?qualifier ?precision WHERE { GRAPH ?g { mission:lupex ekg:claim ?c .
        ?c a ekg:Claim ; ekg:claimSubject mission:lupex ; ekg:claimProperty ekg:plannedLaunchDate ;
           ekg:claimValue ?value ; ekg:qualifier ?qualifier ; ekg:datePrecision ?precision } }""")
    assert {(str(g).rsplit("/", 1)[-1], str(v), str(q).rsplit("/", 1)[-1], str(p).rsplit("/", 1)[-1])
            for g, v, q, p in launch} == {
        ("jaxa-international-space-exploration", "2025", "target", "fiscal-year"),
        ("lupex-mission-overview", "2024", "by", "year"),
    }
    status = select(ds, """SELECT ?g ?value WHERE { GRAPH ?g { ?c ekg:claimSubject mission:lupex ;
        ekg:claimProperty ekg:missionStatus ; ekg:claimValue ?value } }""")
    assert {(str(g).rsplit("/", 1)[-1], str(v).rsplit("/", 1)[-1]) for g, v in status} == {
        ("jaxa-international-space-exploration", "under-development"),
        ("lupex-mission-overview", "planning"),
    }


# --- acronyms and facts added by the sentence-by-sentence audit -------------------------------------------

ACRONYMS = [  # (source, entity, acronym, expansion as the document gives it)
    ("jaxa-international-space-exploration", "organisation:jsec", "JSEC", "JAXA Space Exploration Center"),
    ("jaxa-international-space-exploration", "place:low-earth-orbit", "LEO", "low Earth orbit"),
    ("jaxa-international-space-exploration", "spacecraft:iss", "ISS", "International Space Station"),
    ("jaxa-international-space-exploration", "event:isef2", "ISEF2", "2nd International Space Exploration Forum"),
    ("jaxa-international-space-exploration", "mission:slim", "SLIM", "Smart Lander for Investigating the Moon"),
    ("jaxa-international-space-exploration", "mission:selene", "SELENE", "SELENE"),
    ("jaxa-international-space-exploration", "mission:lupex", "LUPEX", "Lunar Polar Exploration"),
    ("jaxa-international-space-exploration", "mission:mmx", "MMX", "Martian Moons eXploration"),
    ("jaxa-mmx-international-collaboration", "agency:cnes", "CNES", "Centre National d'Études Spatiales"),
    ("jaxa-mmx-international-collaboration", "organisation:pposs", "PPOSS", "Planetary Protection of the Outer Solar System"),
    ("jaxa-mmx-international-collaboration", "organisation:jpgu", "JpGU", "Japan Earth and Planetary Science Association"),
    ("jaxa-mmx-international-collaboration", "organisation:honeybee-robotics", "HBR", "HoneyBee Robotics"),
    ("jaxa-mmx-international-collaboration", "instrument:megane", "MEGANE", "Mars-moon Exploration with Gamma rays and Neutrons"),
    ("spacenews-esa-jaxa-joint-statement", "mission:ramses", "RAMSES", "Rapid Apophis Mission for Space Safety"),
    ("spacenews-esa-jaxa-joint-statement", "programme:crd2", "CRD2", "Commercial Removal of Debris Demonstration"),
    ("spacenews-esa-jaxa-joint-statement", "mission:adras-j", "ADRAS-J", "ADRAS-J"),
    ("spacenews-esa-jaxa-joint-statement", "agency:isro", "ISRO", "Indian Space Research Organisation"),
    ("jaxa-mmx-international-collaboration", "agency:cnes", "CNES", "Centre National d'Études Spatiales"),
    ("spacenews-esa-jaxa-joint-statement", "mission:athena", "Athena", "New Advanced Telescope for High-ENergy Astrophysics"),
    ("lupex-mission-overview", "agreement:lupex-phase-a-implementation-agreement-2017", "IA",
     "Preliminary Phase A and Phase A Research Implementation Agreement (LUPEX)"),
    ("lupex-mission-overview", "agency:jaxa", "JAXA", "Japan Aerospace Exploration Agency"),
]


@pytest.mark.parametrize("slug,entity,acronym,expansion", ACRONYMS, ids=[f"{a[2]}-{a[0][:12]}" for a in ACRONYMS])
def test_each_acronym_is_stated_with_its_expansion_in_its_source(ds, slug, entity, acronym, expansion):
    assert_in_source(ds, slug, f'{entity} ekg:acronym "{acronym}" ; rdfs:label ?l . FILTER(STR(?l) = "{expansion}")')


def test_jsec_works_with_government_industry_academia_and_foreign_agencies(ds):
    slug = "jaxa-international-space-exploration"
    partners = {str(label) for (label,) in select(ds, f"""SELECT ?label WHERE {{ GRAPH src:{slug} {{
        organisation:jsec ekg:collaboratesWith ?o . ?o rdfs:label ?label }} }}""")}
    assert partners == {"Japanese government", "Japanese industry", "Japanese academia", "Space agencies outside Japan"}
    assert ask(ds, "ekg:collaboratesWith rdfs:subPropertyOf org:linkedTo ; rdfs:label ?l ; skos:definition ?d .")


def test_jaxa_outreach_activities(ds):
    slug = "jaxa-international-space-exploration"
    activities = {str(label) for (label,) in select(ds, f"""SELECT ?label WHERE {{ GRAPH src:{slug} {{
        ?a a ekg:OutreachActivity ; ekg:operator agency:jaxa ; ekg:objective objective:jaxa-exploration-outreach ;
           rdfs:label ?label }} }}""")}
    assert activities == {"JAXA space exploration symposiums", "JAXA staff lectures on international space exploration",
                          "JAXA space exploration social networking services"}
    assert ask(ds, "ekg:OutreachActivity rdfs:subClassOf ekg:Programme ; skos:definition ?d .")


def test_tokyo_principles_affirm_exploration_benefits_all_humanity(ds):
    slug = "jaxa-international-space-exploration"
    assert_in_source(ds, slug, """
        agreement:tokyo-principles ekg:description ?d ; ekg:objective ?goal ; ekg:declaredAt event:isef2 .
        FILTER (CONTAINS(?d, "all of humanity") && CONTAINS(?d, "realm of human activity"))
        programme:jaxa-space-exploration ekg:objective ?goal .
        spacecraft:iss ekg:missionStatus status:built-in-use .
        mission:selene ekg:acronym "SELENE" ; skos:altLabel "Kaguya"@en .
    """)


def test_signings_are_dated_events_in_the_source_that_dates_them(ds):
    assert_in_source(ds, "spacenews-esa-jaxa-joint-statement", """
        ?signing a ekg:SigningCeremony ; ekg:location place:tsukuba ;
            ekg:participant person:hiroshi-yamakawa, person:josef-aschbacher ;
            ekg:outcome agreement:esa-jaxa-joint-statement-2024 .
        agreement:esa-jaxa-joint-statement-2024 ekg:declaredAt ?signing .
    """)
    # SpaceNews gives "Nov. 20" without a year: its graph says the date is not given (no date it can hold) ...
    assert_in_source(ds, "spacenews-esa-jaxa-joint-statement", """
        event:esa-jaxa-joint-statement-signing-2024 ekg:dateNotGiven true .
        agreement:esa-jaxa-joint-statement-2024 ekg:dateNotGiven true .
        event:suzuki-remarks-space-tech-expo-europe-2024 ekg:dateNotGiven true .""")
    assert not ask(ds, "GRAPH src:spacenews-esa-jaxa-joint-statement { ?x ekg:date|ekg:signingDate ?d }")
    # ... and the full date is the curation graph's inference, with its basis
    assert_in_source(ds, "explore-kg-curation", """
        event:esa-jaxa-joint-statement-signing-2024 ekg:date "2024-11-20"^^xsd:date ; ekg:claim ?c .
        ?c ekg:basis basis:inference ; prov:wasDerivedFrom src:spacenews-esa-jaxa-joint-statement ; rdfs:comment ?why .
        agreement:esa-jaxa-joint-statement-2024 ekg:signingDate "2024-11-20"^^xsd:date .
    """)
    assert_in_source(ds, "lupex-mission-overview", """
        ?signing a ekg:SigningCeremony ; ekg:date "2017-12"^^xsd:gYearMonth ; ekg:participant agency:isro ;
            ekg:outcome agreement:lupex-phase-a-implementation-agreement-2017 .
    """)
    # the SpaceDaily item gives no date or place of signing, so its graph has no signing event
    assert not ask(ds, "GRAPH src:esa-jaxa-cooperation-news { ?s a ekg:SigningCeremony }")


def test_hakamada_statement_is_who_said_what_about_what(ds):
    assert_in_source(ds, "spacenews-esa-jaxa-joint-statement", """
        ?statement ekg:speaker person:takeshi-hakamada ; ekg:participant organisation:ispace ;
            ekg:isAbout agreement:esa-jaxa-joint-statement-2024 ; ekg:mentions agency:esa, agency:jaxa ;
            ekg:dateNotGiven true ; ekg:description ?d .
        FILTER (CONTAINS(?d, "commercial opportunities") && CONTAINS(?d, "Japan and Europe"))
    """)


def test_lupex_overview_audit_additions(ds):
    assert_in_source(ds, "lupex-mission-overview", """
        spacecraft:lupex-rover ekg:country country:japan . spacecraft:lupex-lander ekg:country country:india .
        ?c ekg:contributor ?others ; ekg:contributesTo mission:lupex ; ekg:contributionRole contribrole:instrument ;
            ekg:commitmentStatus commitment:possible .
        ?others rdfs:label "Other space agencies"@en .
    """)


# --- curation and reasoning ----------------------------------------------------------------------------

def test_every_curation_statement_is_a_claim_with_its_basis(ds):
    """Each direct triple of the curation graph is restated by a claim with a basis and a note."""
    unexplained = select(ds, """SELECT ?s ?p ?o WHERE { GRAPH src:explore-kg-curation { ?s ?p ?o }
        FILTER (?s != src:explore-kg-curation && ?s != organisation:explore-kg-editors)
        FILTER (?p NOT IN (rdfs:label, ekg:statedIn, ekg:claim))
        FILTER NOT EXISTS { ?s a ekg:Claim }
        FILTER NOT EXISTS { ?p rdfs:subPropertyOf* rdf:type . FILTER NOT EXISTS {
            GRAPH src:explore-kg-curation { ?c ekg:claimSubject ?s ; ekg:claimProperty rdf:type ; ekg:claimValue ?o } } }
        FILTER NOT EXISTS { GRAPH src:explore-kg-curation {
            ?c ekg:claimSubject ?s ; ekg:claimProperty ?p ; ekg:claimValue ?o ; ekg:basis ?basis ; rdfs:comment ?note } }
    }""")
    # rdf:type triples that only declare an entity's class for its label are allowed without a claim
    assert [r for r in unexplained if str(r[1]) != str(PREFIXES["rdf"]) + "type"] == []
    claims = select(ds, """SELECT ?c ?basis WHERE { GRAPH src:explore-kg-curation { ?c a ekg:Claim ; ekg:basis ?basis } }""")
    assert len(claims) >= 40
    assert {str(b).rsplit("/", 1)[-1] for _, b in claims} == {
        "general-knowledge", "inference", "publication-context", "identifier-match"}
    # inferences and publication context name the document they rest on
    assert not ask(ds, """GRAPH src:explore-kg-curation { ?c ekg:basis ?b } VALUES ?b { basis:inference basis:publication-context }
        FILTER NOT EXISTS { GRAPH src:explore-kg-curation { ?c prov:wasDerivedFrom ?doc } ?doc a ekg:SourceDocument }""")


def test_wikidata_links_only_in_the_curation_graph_each_with_what_was_compared(ds):
    links = select(ds, "SELECT ?s ?o WHERE { GRAPH src:explore-kg-curation { ?s skos:exactMatch ?o } }")
    assert len(links) == 17 and all(str(o).startswith(PREFIXES["wd"]) for _, o in links)
    assert ask(ds, "GRAPH src:explore-kg-curation { body:phobos skos:exactMatch wd:Q7547 . agency:esa skos:exactMatch wd:Q42262 }")
    assert not ask(ds, """GRAPH src:explore-kg-curation { ?s skos:exactMatch ?o } FILTER NOT EXISTS {
        GRAPH src:explore-kg-curation { ?c ekg:claimSubject ?s ; ekg:claimProperty skos:exactMatch ; ekg:claimValue ?o ;
            ekg:basis basis:identifier-match ; rdfs:comment ?note } FILTER(CONTAINS(?note, "Compared")) }""")
    # no document graph makes Wikidata claims, and nothing calls itself verified
    assert not ask(ds, "GRAPH ?g { ?s skos:exactMatch ?o } FILTER (?g != src:explore-kg-curation)")
    assert not ask(ds, 'GRAPH ?g { ?s ?p ?text } FILTER (isLiteral(?text) && CONTAINS(LCASE(STR(?text)), "verified"))')


def test_no_document_graph_holds_a_basis(ds):
    assert not ask(ds, "GRAPH ?g { ?c ekg:basis ?b } FILTER (?g != src:explore-kg-curation)")


def test_date_qualifiers_sit_on_claims_never_on_subjects(ds):
    assert not ask(ds, "GRAPH ?g { ?s ekg:dateQualifier|ekg:qualifier ?q } FILTER NOT EXISTS { GRAPH ?g { ?s a ekg:Claim } }")
    assert int(select(ds, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?c a ekg:Claim ; ekg:qualifier ?q } }")[0][0]) == 5


def test_every_authored_claim_restates_a_direct_triple_of_its_own_graph(ds):
    assert not ask(ds, """GRAPH ?g { ?c a ekg:Claim ; ekg:claimSubject ?s ; ekg:claimProperty ?p ; ekg:claimValue ?v }
        FILTER NOT EXISTS { GRAPH ?g { ?s ?p ?v ; ekg:claim ?c } }""")


def test_data_is_consistent_and_heritage_chains_are_inferred(ds):
    result = reason(ds)
    assert result.inconsistencies == []
    # LUPEX navigation equipment comes from SLIM, which used SELENE data: ekg:buildsOn is transitive
    assert (URIRef(PREFIXES["instrument"] + "lupex-navigation-equipment"), EKG.buildsOn,
            URIRef(PREFIXES["mission"] + "selene")) in result.inferred


# --- regressions: the wrong triples issue 9 found, one test each --------------------------------------------

def test_honeybee_robotics_does_not_provide_the_mmx_sampler(ds):
    """The MMX page says only that the MMX sampler team and HBR did joint research on the sampler."""
    assert not ask(ds, "?c ekg:contributor organisation:honeybee-robotics ; ekg:providedItem instrument:mmx-sampler")
    assert not ask(ds, "?c ekg:contributor organisation:honeybee-robotics ; ekg:contributionRole contribrole:sampler")
    assert not ask(ds, "mission:mmx ekg:participant organisation:honeybee-robotics")
    assert_in_source(ds, "jaxa-mmx-international-collaboration", """
        ?c ekg:contributor organisation:honeybee-robotics ; ekg:contributionRole contribrole:joint-research ;
            ekg:isAbout instrument:mmx-sampler .""")


def test_cnes_does_not_contribute_macromega(ds):
    """The MMX page mentions a French MacrOmega team, Professor Bibling and a visit to CNES, no CNES contribution."""
    assert not ask(ds, "?c ekg:contributor agency:cnes ; ekg:providedItem instrument:macromega")
    assert not ask(ds, "?c ekg:contributor agency:cnes ; ekg:contributesTo mission:mmx")


def test_the_iss_is_built_and_in_use_not_completed(ds):
    """JAXA's page says the ISS was completed (built); a query for finished missions must not list it."""
    assert not ask(ds, "?x ekg:missionStatus status:completed")
    assert_in_source(ds, "jaxa-international-space-exploration", "spacecraft:iss ekg:missionStatus status:built-in-use .")
    assert ask(ds, "status:built-in-use skos:broader status:in-operation ; skos:definition ?d .")


def test_the_second_news_report_holds_only_what_it_says(ds):
    """Moonlight ESA-led, "planetary defence", a crewed rover, the full names of RAMSES and Athena and the LUPEX
    acronym are SpaceNews's, not the other report's."""
    graph = "src:esa-jaxa-cooperation-news"
    assert not ask(ds, f"GRAPH {graph} {{ programme:moonlight ekg:leadAgency ?x }}")
    assert not ask(ds, f"GRAPH {graph} {{ ?s ?p area:planetary-defence }}")
    assert not ask(ds, f'GRAPH {graph} {{ ?s ?p ?text }} FILTER (isLiteral(?text) && CONTAINS(LCASE(STR(?text)), "crewed"))')
    assert not ask(ds, f"GRAPH {graph} {{ mission:ramses rdfs:label|ekg:acronym ?name }}")
    assert not ask(ds, f"GRAPH {graph} {{ mission:athena rdfs:label ?name }}")
    assert not ask(ds, f"GRAPH {graph} {{ mission:lupex ekg:acronym|rdfs:label ?name }}")
    assert_in_source(ds, "spacenews-esa-jaxa-joint-statement", """
        programme:moonlight ekg:leadAgency agency:esa .
        mission:ramses rdfs:label "Rapid Apophis Mission for Space Safety"@en .
        spacecraft:pressurized-lunar-rover rdfs:label "crewed pressurized lunar rover"@en .""")


def test_adras_j_is_supported_by_crd2_not_part_of_it(ds):
    assert not ask(ds, "mission:adras-j ekg:partOf programme:crd2")
    assert_in_source(ds, "spacenews-esa-jaxa-joint-statement", "mission:adras-j ekg:supportedBy programme:crd2 .")


def test_the_lupex_lander_does_not_host_the_navigation_equipment(ds):
    """The LUPEX overview says navigation equipment derived from SLIM will be used, not which vehicle carries it."""
    assert not ask(ds, "?vehicle ekg:hostsInstrument instrument:lupex-navigation-equipment")


def test_the_megane_team_and_the_japanese_us_developers_are_two_statements(ds):
    """NASA selected the MEGANE team; separately, Japanese and US scientists and engineers develop MEGANE."""
    assert not ask(ds, "organisation:megane-team ekg:country ?country")
    assert not ask(ds, "instrument:megane ekg:developer organisation:megane-team")
    assert_in_source(ds, "jaxa-mmx-international-collaboration", """
        event:megane-team-selection-2017 ekg:participant agency:nasa ; ekg:outcome organisation:megane-team .
        instrument:megane ekg:developer organisation:megane-developers .
        organisation:megane-developers owl:differentFrom organisation:megane-team .""")


def test_the_large_debris_demonstration_has_no_status_the_text_does_not_support(ds):
    """SpaceNews only says Japan will move to demonstrate large-debris removal: no status concept fits."""
    assert not ask(ds, "mission:large-debris-removal-demo ekg:missionStatus ?status")


def test_no_document_graph_states_metadata_its_text_does_not_show(ds):
    """No address, and no publisher, creator, author or date that the stored text does not show."""
    assert not ask(ds, "?doc a ekg:SourceDocument ; schema:url ?url")  # (the ontology's publisher has one)
    assert not ask(ds, "?doc a ekg:SourceDocument ; dcterms:creator ?who")
    for slug in ("lupex-mission-overview", "esa-jaxa-cooperation-news", "spacenews-esa-jaxa-joint-statement",
                 "jaxa-mmx-international-collaboration"):
        assert not ask(ds, f"GRAPH src:{slug} {{ src:{slug} dcterms:publisher|schema:author|ekg:published ?x }}"), slug
    assert not ask(ds, "?doc dcterms:publisher organisation:iaspoint")
    assert not ask(ds, "?doc dcterms:publisher organisation:spacedaily")
    assert not ask(ds, "?doc schema:author person:erica-marchand")
    # what the form of a text does show is an editorial claim with its basis
    assert_in_source(ds, "explore-kg-curation", """
        src:spacenews-esa-jaxa-joint-statement schema:author person:andrew-jones ; ekg:claim ?c .
        ?c ekg:basis basis:publication-context ; prov:wasDerivedFrom src:spacenews-esa-jaxa-joint-statement .""")


def test_general_knowledge_lives_in_the_curation_graph(ds):
    """Tokyo for ISEF2 and TeNQ, Kibo as an ISS module, the ISAS and MEXT acronyms are nobody's document."""
    for pattern in ("event:isef2 ekg:location place:tokyo", "place:tenq ekg:locatedIn place:tokyo",
                    "spacecraft:kibo ekg:partOf spacecraft:iss", 'organisation:isas ekg:acronym "ISAS"',
                    'organisation:mext ekg:acronym "MEXT"', "place:nihonbashi ekg:locatedIn place:tokyo"):
        graphs = {str(g).rsplit("/", 1)[-1] for (g,) in select(ds, f"SELECT ?g WHERE {{ GRAPH ?g {{ {pattern} }} }}")}
        assert graphs == {"explore-kg-curation"}, pattern
