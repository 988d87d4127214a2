"""Small national models written to a folder, for the national tests."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "models" / "voorbeeldregio"


def write(folder: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (name -> text) into ``folder``; return it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text.strip() + "\n", encoding="utf-8")
    return folder


def loss_region(folder: Path, arrivals_per_year: float, mean_los_days: float) -> Path:
    """A region with only JeugdzorgPlus as a loss system (refused at once when full)."""
    return write(
        folder,
        {
            "model.yaml": "schema_version: 1\nname: Verliesregio\nbaseline_year: 2023\n"
            "synthetic: true\nhome_priority: 1\n",
            "care_forms.csv": "care_form,name,waiting_policy,max_wait_days,max_age_years,"
            "age_out_to\njeugdzorgplus,JeugdzorgPlus,overflow,0,18,zelfstandig",
            "providers.csv": "provider,name\nEIGEN,Eigen aanbieder",
            "beds.csv": "provider,care_form,beds,occupied\nEIGEN,jeugdzorgplus,0,0",
            "instroom.csv": "care_form,year,arrivals_per_year\n"
            f"jeugdzorgplus,2023,{arrivals_per_year}",
            "los.csv": "care_form,distribution,mean_days,cv\n"
            f"jeugdzorgplus,exponential,{mean_los_days},",
            "routing.csv": "from_care_form,to,share\njeugdzorgplus,thuis,1",
            "costs.csv": "care_form,provider,cost_per_bed_day_eur\njeugdzorgplus,,600",
        },
    )


def loss_pool(
    folder: Path,
    arrivals: tuple[float, float],
    mean_los_days: float,
    beds: tuple[int, int],
    occupied: tuple[int, int],
    cost_key: str = "use",
) -> Path:
    """Two regions sharing one loss pool of ``sum(beds)`` beds at two providers."""
    loss_region(folder / "a", arrivals[0], mean_los_days)
    loss_region(folder / "b", arrivals[1], mean_los_days)
    shares = ("0.25", "0.75") if cost_key == "fixed" else ("", "")
    return write(
        folder,
        {
            "national.yaml": "schema_version: 1\nname: Twee regio's\nbaseline_year: 2023\n"
            "synthetic: true\n",
            "regions.csv": "region,name,model,inhabitants\nnoord,Noord,a,100000\n"
            "zuid,Zuid,b,300000",
            "pools.csv": f"pool,name,care_form,cost_key\njzp,JZ+ samen,jeugdzorgplus,{cost_key}",
            "pool_regions.csv": "pool,region,fixed_share,occupied\n"
            f"jzp,noord,{shares[0]},{occupied[0]}\njzp,zuid,{shares[1]},{occupied[1]}",
            "pool_beds.csv": "pool,provider,name,beds,occupied,cost_per_bed_day_eur\n"
            f"jzp,A,Alfa,{beds[0]},{min(beds[0], sum(occupied))},600\n"
            f"jzp,B,Beta,{beds[1]},{sum(occupied) - min(beds[0], sum(occupied))},700",
            "travel.csv": "region,provider,minutes\nnoord,A,20\nnoord,B,80\nzuid,A,90\nzuid,B,25",
        },
    )


def example_pool(folder: Path) -> Path:
    """Three copies of the example region; two share its JeugdzorgPlus in a pool."""
    region = folder / "regio"
    shutil.copytree(EXAMPLE, region)
    beds = (EXAMPLE / "beds.csv").read_text(encoding="utf-8").splitlines()
    own = [line for line in beds if ",jeugdzorgplus," not in line]
    (region / "beds.csv").write_text(
        "\n".join([*own, "P07,jeugdzorgplus,0,0"]) + "\n", encoding="utf-8"
    )
    return write(
        folder,
        {
            "national.yaml": "schema_version: 1\nname: Drie regio's\nbaseline_year: 2023\n"
            "synthetic: true\n",
            "regions.csv": "region,name,model,scale,inhabitants\nnoord,Noord,regio,1.0,300000\n"
            "zuid,Zuid,regio,0.5,150000\noost,Oost,regio,0.8,240000",
            "pools.csv": "pool,name,care_form,cost_key\njzp,JeugdzorgPlus Noord-Zuid,"
            "jeugdzorgplus,use",
            "pool_regions.csv": "pool,region,fixed_share,occupied\njzp,noord,,6\njzp,zuid,,3",
            "pool_beds.csv": "pool,provider,name,beds,occupied,cost_per_bed_day_eur\n"
            "jzp,A,Alfa,8,5,650\njzp,B,Beta,6,4,700",
            "travel.csv": "region,provider,minutes\nnoord,A,20\nnoord,B,70\nzuid,A,65\nzuid,B,15",
        },
    )
